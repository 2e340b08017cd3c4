MATCH ()-[r:{{type}}]->() WHERE r.id IN $ids
DELETE r
