#!/usr/bin/env python3
"""Differential check of SPARQL parity cases against rdflib (Debian python3-rdflib).

rasqal's roqet (tests/unit/query/reference_engine_test.cc) has no FILTER NOT EXISTS, does not
execute MINUS and counts unbound values in COUNT(?x); this script answers the cases of a
parity file with rdflib's SPARQL 1.1 engine instead, on the same N-Triples export of the
fixture graph (main namespace), and prints the cases whose rows differ.

  KHIVE_FIXTURE_NT=/tmp/fixture.nt build/release/tests/query/khive_query_unit_tests \\
      --gtest_filter='ReferenceEngines.Sparql*'
  python3 tools/sparql-check/rdflib_check.py /tmp/fixture.nt tests/parity/sparql_optional.test

Cases with an ns= option are skipped (the export holds the main namespace), and so are
SELECT * cases (rdflib 6.1.1 also selects the variables of MINUS groups, which are not in scope). A selected node is
compared as khive returns it (@name | substrate | kind | name; NULL four times when unbound).
rdflib 6.1.1 leaves out a solution that binds no selected variable (roqet keeps it, as SPARQL
1.1 does), so rows that are NULL in every column are not compared. Exit status 1 when a case
differs.
"""
import re
import sys

import rdflib

KG = "http://khive.dev/kg#"
RDF_TYPE = rdflib.RDF.type


def main(nt_path, test_path):
    g = rdflib.Graph()
    g.parse(nt_path, format="nt")
    names, types = {}, {}
    relations = set()
    for s, p, o in g:
        if p == rdflib.URIRef(KG + "name"):
            names[s] = str(o)
        elif p == RDF_TYPE:
            types.setdefault(s, set()).add(str(o)[len(KG):])
        elif isinstance(o, rdflib.URIRef):
            relations.add(str(p)[len(KG):])

    def node_cells(v):
        t = types.get(v, set())
        substrate = "entity" if "entity" in t else "note"
        kind = next(iter(t - {"entity", "note"}), "NULL")
        return ["@" + names.get(v, str(v)), substrate, kind, names.get(v, "NULL")]

    def value_cell(v):
        if v is None:
            return "NULL"
        py = v.toPython()
        if isinstance(py, float) and py.is_integer():
            return str(int(py))
        return str(py)

    lines = open(test_path, encoding="utf-8").read().split("\n")
    agree = differ = 0
    i = 0
    while i < len(lines):
        header = lines[i]
        i += 1
        if not header.startswith("query sparql") or "ns=" in header:
            continue
        text = []
        while lines[i].strip() != "----":
            text.append(lines[i])
            i += 1
        i += 1
        expected = []
        while i < len(lines) and lines[i].strip():
            expected.append(lines[i].strip())
            i += 1
        query = " ".join(text)
        if "SELECT *" in query:
            continue
        # Node variables: subjects, and objects of relations.
        nodes = set(re.findall(r"\?(\w+)\s+(?:a\s|:)", query))
        for rel, var in re.findall(r":(\w+)[+]?(?:\{[\d,]*\})?\s+\?(\w+)", query):
            if rel in relations:
                nodes.add(var)
        result = g.query("PREFIX : <%s> %s" % (KG, query))
        rows = []
        for r in result:
            cells = []
            for var, v in zip(result.vars, r):
                if str(var) in nodes:
                    cells += node_cells(v) if v is not None else ["NULL"] * 4
                else:
                    cells.append(value_cell(v))
            rows.append(" | ".join(cells))
        ours = [row for row in expected if any(cell != "NULL" for cell in row.split(" | "))]
        theirs = rows
        if " ordered" not in header:
            ours, theirs = sorted(ours), sorted(theirs)
        if ours == theirs:
            agree += 1
        else:
            differ += 1
            print("DIFFERS:", query, "\n  khive: ", ours, "\n  rdflib:", theirs)
    print("%d cases agree with rdflib, %d differ" % (agree, differ))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
