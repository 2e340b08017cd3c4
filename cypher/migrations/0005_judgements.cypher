// Planners' judgements of recommended pairs live beside the graph as (:Judgement) nodes
// without the :Entity label, so no graph query ever sees them.
CREATE CONSTRAINT judgement_id IF NOT EXISTS FOR (j:Judgement) REQUIRE j.id IS UNIQUE;
CREATE INDEX judgement_pair IF NOT EXISTS FOR (j:Judgement) ON (j.pair);
CREATE INDEX judgement_target IF NOT EXISTS FOR (j:Judgement) ON (j.target);
CREATE INDEX judgement_partner IF NOT EXISTS FOR (j:Judgement) ON (j.partner)
