// A village is covered when it, or its own party organization, is a member of a joint body.
MATCH (v:Village)
WHERE v.region_code STARTS WITH $region_code
  AND ($as_of IS NULL OR ((v.valid_from IS NULL OR v.valid_from <= $as_of)
                      AND (v.valid_to IS NULL OR v.valid_to >= $as_of)))
WITH v, [(v)-[m:MEMBER_OF]->(j:PartyOrganization)
          WHERE j.kind IN $joint_kinds
            AND ($as_of IS NULL OR ((m.valid_from IS NULL OR m.valid_from <= $as_of)
                                AND (m.valid_to IS NULL OR m.valid_to >= $as_of)
                                AND (j.valid_from IS NULL OR j.valid_from <= $as_of)
                                AND (j.valid_to IS NULL OR j.valid_to >= $as_of))) | j.id] AS direct,
        [(v)<-[o:ORGANIZATION_OF]-(:PartyOrganization)-[m:MEMBER_OF]->(j:PartyOrganization)
          WHERE j.kind IN $joint_kinds
            AND ($as_of IS NULL OR ((o.valid_from IS NULL OR o.valid_from <= $as_of)
                                AND (o.valid_to IS NULL OR o.valid_to >= $as_of)
                                AND (m.valid_from IS NULL OR m.valid_from <= $as_of)
                                AND (m.valid_to IS NULL OR m.valid_to >= $as_of)
                                AND (j.valid_from IS NULL OR j.valid_from <= $as_of)
                                AND (j.valid_to IS NULL OR j.valid_to >= $as_of))) | j.id] AS through
WITH v, size(direct) + size(through) > 0 AS covered
RETURN collect({id: v.id, region_code: v.region_code, covered: covered}) AS rows
