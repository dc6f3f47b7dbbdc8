"""`flowengine schema` against a real JSON Schema validator (python3-jsonschema, draft
2020-12): every pipeline in configs/ and a set of valid variants validate; typos, wrong values
and wrong shapes are rejected by the schema *and* by the loader (`validate` exits 2), so the
schema and the loader agree. docs/config.md's key table equals `flowengine schema --format
markdown` (tools/gen_config_docs.py regenerates it)."""
import glob
import json
import os
import subprocess

from harness import BIN, TempDirTest, generate, run, write

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

try:
    import jsonschema
    import yaml
except ImportError:  # required: tools/setup.sh installs python3-jsonschema and python3-yaml
    jsonschema = None


class ConfigSchemaTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.require(jsonschema is not None, "python3-jsonschema and python3-yaml (tools/setup.sh)")
        out = subprocess.run([BIN, "schema"], capture_output=True, check=True).stdout
        self.schema = json.loads(out)
        jsonschema.Draft202012Validator.check_schema(self.schema)
        self.validator = jsonschema.Draft202012Validator(self.schema)

    def errors(self, document):
        return list(self.validator.iter_errors(document))

    def test_every_example_config_validates(self):
        files = sorted(glob.glob(os.path.join(ROOT, "configs", "*.yaml")))
        self.assertGreater(len(files), 3)
        for f in files:
            with open(f) as fh:
                doc = yaml.safe_load(fh)
            self.assertEqual(self.errors(doc), [], f)

    BASE = {"source": {"path": "in.csv"}, "sink": {"path": "out.csv"}}

    def variants(self):
        return [
            {"source": {"path": ["a.csv", "b/*.csv"], "format": "tsv",
                        "columns": [{"name": "id", "type": "int64", "required": True}]},
             "sink": {"path": "-", "compression": "zstd", "columns": ["id", {"name": "x", "from": "id"}]},
             "limits": {"threads": 2, "memory": "64MiB", "blockSize": 65536, "timeout": "30m"},
             "errorHandling": "skip-row", "deadLetter": {"path": "dead.csv"}, "maxErrors": "5%",
             "retry": {"attempts": 5, "initialDelay": "10ms"}},
            {"source": {"path": "-"}, "sink": {"path": "o.csv"},
             "transform": [{"javascript": {"code": "function process(c) { return true; }",
                                           "output": ["id", {"name": "n", "type": "int32"}]}}],
             "routes": {"review": {"path": "r.csv", "outputMode": "replace"}}},
        ]

    def test_valid_variants_pass_schema_and_loader(self):
        for doc in self.variants():
            self.assertEqual(self.errors(doc), [], json.dumps(doc))

    def test_typos_and_wrong_values_are_rejected_by_both(self):
        generate(self.path("in.csv"), 10)
        bad = [
            ({"sorce": {"path": "in.csv"}}, "FE-CONFIG-UNKNOWN-KEY"),
            ({"source": {"path": "in.csv", "fromat": "csv"}}, "FE-CONFIG-UNKNOWN-KEY"),
            ({"source": {"path": "in.csv", "format": "xml"}}, "FE-CONFIG-VALUE"),
            ({"sink": {"path": "out.csv", "outputMode": "overwrite"}}, "FE-CONFIG-VALUE"),
            ({"limits": {"threads": -1}}, "FE-CONFIG-VALUE"),
            ({"limits": {"threads": 5000}}, "FE-CONFIG-VALUE"),
            ({"limits": {"memory": "lots"}}, "FE-CONFIG-VALUE"),
            ({"limits": {"timeout": 30}}, "FE-CONFIG-VALUE"),
            ({"source": {"path": "in.csv", "columns": [{"name": "id", "type": "integer"}]}},
             "FE-CONFIG-VALUE"),
            ({"sink": {"path": "out.csv", "compression": "bzip2"}}, "FE-CONFIG-VALUE"),
            ({"sink": {"path": "out.csv", "columns": [{"from": "id"}]}}, "FE-CONFIG-MISSING-KEY"),
            ({"errorHandling": "ignore"}, "FE-CONFIG-VALUE"),
            ({"retry": {"attempts": 0}}, "FE-CONFIG-VALUE"),
            ({"transform": [{"python": {"file": "x.py"}}]}, "FE-CONFIG-UNKNOWN-KEY"),
        ]
        for change, code in bad:
            doc = json.loads(json.dumps(self.BASE))
            for k, v in change.items():
                if isinstance(v, dict) and isinstance(doc.get(k), dict):
                    doc[k].update(v)
                else:
                    doc[k] = v
            if "sorce" in doc:
                del doc["source"]
            self.assertNotEqual(self.errors(doc), [], f"schema accepted {change}")
            p = self.path("p.yaml")
            write(p, yaml.safe_dump(doc))
            r = run(["validate", p])
            self.assertEqual(r.code, 2, f"loader accepted {change}: {r!r}")
            self.assertIn(code, r.err, f"{change}: {r.err}")

    def test_docs_key_table_is_current(self):
        table = subprocess.run([BIN, "schema", "--format", "markdown"], capture_output=True,
                               check=True, text=True).stdout
        with open(os.path.join(ROOT, "docs", "config.md")) as f:
            doc = f.read()
        begin = "<!-- generated by tools/gen_config_docs.py: begin -->\n"
        end = "<!-- generated by tools/gen_config_docs.py: end -->"
        self.assertIn(begin, doc)
        current = doc[doc.index(begin) + len(begin):doc.index(end)]
        self.assertEqual(current, table, "docs/config.md is stale: run tools/gen_config_docs.py")
