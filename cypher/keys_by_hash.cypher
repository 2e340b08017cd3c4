MATCH (k:ApiKey {hash: $hash})
MATCH (a:Account {name: k.account})
RETURN collect({key: k.doc, account: a.doc}) AS rows
