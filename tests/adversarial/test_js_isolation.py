"""The engine's JavaScript is immune to the user's script. Every global and every method the
driver calls — the list is generated from the driver's source (core/js/driver_js.h), so it
stays complete when the driver changes — is redefined by a script, one at a time, on every
builtin that has it; and a script reaching the driver's objects through `context` tries to
change their prototypes. The output must be byte-identical to an untouched run (or, where a
script breaks its own code, a clean FE error): never a crash, never a silent change."""
import os
import re
import unittest

from harness import TempDirTest, read, run, write

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DRIVER = read(os.path.join(ROOT, "core", "js", "driver_js.h")).decode()

BUILTIN_GLOBALS = [
    "Object", "Function", "Array", "String", "Number", "Boolean", "Symbol", "BigInt", "Math",
    "JSON", "Reflect", "Map", "Set", "WeakMap", "WeakSet", "Date", "RegExp", "Error",
    "TypeError", "RangeError", "Uint8Array", "Int32Array", "Float64Array", "Promise", "Proxy",
    "parseInt", "parseFloat", "isNaN", "isFinite", "globalThis",
]

# The driver's own names: methods of its objects, not builtins.
OWN = {"column", "log", "rowFactory", "load", "get", "release", "value", "route", "pad",
       "groupThousands", "formatNumber", "timeOf", "formatDate", "frozen", "text", "makeRow",
       "userProcess", "dateTime", "nativeConsole", "userNow", "function", "if", "for", "while",
       "switch", "return", "catch"}


def driver_methods():
    return sorted(set(re.findall(r"\.([A-Za-z_]\w*)\(", DRIVER)) - OWN)


def driver_globals():
    words = set(re.findall(r"\b([A-Z][A-Za-z0-9]*|parseInt|parseFloat|isNaN|isFinite|globalThis)\b",
                           DRIVER))
    return sorted(w for w in words if w in BUILTIN_GLOBALS)


HIJACK_METHOD = """
(function () {
  const name = %s;
  const bad = function () { throw new Error('hijacked ' + name); };
  const targets = [Object, Object.prototype, Array, Array.prototype, String, String.prototype,
    Number, Number.prototype, Boolean.prototype, Symbol, Symbol.prototype, BigInt.prototype,
    Map.prototype, Set.prototype, WeakMap.prototype, WeakSet.prototype, Function.prototype,
    Date, Date.prototype, RegExp.prototype, Error.prototype, Math, JSON, Reflect,
    Uint8Array.prototype, Int32Array.prototype, Float64Array.prototype,
    Object.getPrototypeOf(Uint8Array.prototype), Object.getPrototypeOf(Uint8Array)];
  const has = Object.prototype.hasOwnProperty;
  const define = Object.defineProperty;
  for (let i = 0; i < targets.length; ++i) {
    try {
      if (has.call(targets[i], name)) define(targets[i], name, { value: bad, writable: true, configurable: true });
    } catch (e) {}
  }
})();
"""

HIJACK_GLOBAL = """
try { globalThis[%s] = function () { throw new Error('hijacked global'); }; } catch (e) {}
"""

PROCESS = """
let tampered = false;
function tamper(context) {
  const attempts = [
    () => { Object.getPrototypeOf(context.output.setField).call = function () { throw 1; }; },
    () => { Object.getPrototypeOf(context.output.setField).apply = function () { throw 1; }; },
    () => { const AP = Object.getPrototypeOf(context.input.schema()); AP.push = null; AP.join = null; AP.map = null; },
    () => { Object.getPrototypeOf(Object.getPrototypeOf(context.input.schema())).hasOwnProperty = null; },
    () => { context.input.schema().constructor.prototype.fill = null; },
    () => { context.output.setField.constructor('return 1')(); },
    () => { Object.defineProperty(Object.getPrototypeOf(context.input.schema()), 'push', { value: 1 }); },
    () => { context.output.setField = null; context.input = null; },
    () => { const d = context.utils.now(); Object.getPrototypeOf(d).getTime = null; },
    () => { Object.getPrototypeOf(context.input.current()).toString = null; },
  ];
  for (let i = 0; i < attempts.length; ++i) { try { attempts[i](); } catch (e) {} }
}
function process(context) {
  if (!tampered) { tampered = true; tamper(context); }
  const row = context.input.current();
  if (!context.validate.required(['id'])) return false;
  context.output.setField('full', row.first + ' ' + row.last);
  context.output.setField('n2', context.input.getValue('n') * 2);
  context.output.setField('fmt', context.utils.format(row.amount, 'N2'));
  context.output.setField('obj', { a: row.first, b: [1, row.n] });
  if (row.n > 7) context.route.send('big');
  if (row.n === 3) context.route.sendCopy('big');
  context.utils.log('info', 'row ' + row.n);
  return row.n !== 4;
}
"""


class IsolationTest(TempDirTest):
    def setUp(self):
        super().setUp()
        rows = ["id,first,last,n,amount"] + [f"{i},F{i},L{i},{i},{i * 1234.5}" for i in range(1, 13)]
        rows.append(",nobody,x,0,1")
        write(self.path("in.csv"), "\n".join(rows) + "\n")
        self.yaml = self.pipeline("""
source:
  path: in.csv
  columns: [{ name: n, type: int32 }, { name: amount, type: float64 }]
transform:
  - javascript: { file: t.js, output: [id, full, n2, fmt, obj] }
sink: { path: out.csv, outputMode: replace }
routes:
  big: { path: big.csv, outputMode: replace }
""")

    def outputs(self, prefix):
        write(self.path("t.js"), prefix + PROCESS)
        r = run(["run", self.yaml])
        return r, (read(self.path("out.csv")) if r.code == 0 else None,
                   read(self.path("big.csv")) if r.code == 0 else None)

    def test_the_lists_come_from_the_driver(self):
        self.assertIn("push", driver_methods())
        self.assertIn("substring", driver_methods())
        self.assertIn("Map", driver_globals())
        self.assertIn("Object", driver_globals())

    def test_redefining_what_the_driver_uses_changes_nothing(self):
        base, expected = self.outputs("")
        self.assertEqual(base.code, 0, repr(base))
        self.assertIn(b'"{""a"":""F1"",""b"":[1,1]}"', expected[0])
        tried = 0
        for name in driver_methods():
            r, got = self.outputs(HIJACK_METHOD % repr(name))
            self.assertEqual(r.code, 0, f"method {name}: {r!r}")
            self.assertEqual(got, expected, f"method {name} changed the output")
            tried += 1
        for name in driver_globals():
            r, got = self.outputs(HIJACK_GLOBAL % repr(name))
            self.assertEqual(r.code, 0, f"global {name}: {r!r}")
            self.assertEqual(got, expected, f"global {name} changed the output")
            tried += 1
        self.assertGreater(tried, 25)

    def test_user_redefinitions_of_common_builtins(self):
        base, expected = self.outputs("")
        prefixes = [
            "Array.prototype.join = () => 'HAC';",
            "class Map {}",
            "let Int32Array = Float64Array;",
            "var Object = null;",
            "String.prototype.substring = () => 'x';",
            "Object.freeze = (o) => o;",
            "JSON.stringify = () => 'nope';",
            "Date.prototype.toISOString = () => 'then';",
            "Object.defineProperty(Object.prototype, 'full', { set() { throw new Error('trap'); } });",
            "Object.prototype.toString = () => 'weird';",
            # The row object is a literal made in the user's realm: an accessor that
            # Object.prototype gains for a column name is neither called nor seen.
            "Object.defineProperty(Object.prototype, 'first', { set() { throw new Error('trap'); },"
            " get() { return 'hijacked'; }, configurable: true });",
            "Function.prototype.call = Function.prototype.apply = () => { throw new Error('trap'); };",
            "Object.setPrototypeOf = Reflect.construct = () => { throw new Error('trap'); };",
        ]
        for prefix in prefixes:
            r, got = self.outputs(prefix + "\n")
            self.assertEqual(r.code, 0, f"{prefix}: {r!r}")
            self.assertEqual(got, expected, prefix)


if __name__ == "__main__":
    unittest.main()
