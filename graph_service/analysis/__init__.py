"""Network analyses: pure functions over networkx graphs.

Nothing here imports the web or store layers. The store's scope export
(``GraphStore.export_graph``) yields a ``networkx.MultiDiGraph`` whose nodes carry the node
documents (``label``, ``kind``, ``name``, ``region_code``, ``attributes`` …) and whose edges,
keyed by link id, carry the link documents (``type``, ``attributes``, ``valid_from`` …).
``graphs.collapse`` turns that into the simple undirected weighted graph most measures need.
"""
