// The JavaScript side of a transform: compiled once per isolate after the user's script. It
// builds the `context` object once and returns runBatch(), which C++ calls once per batch;
// runBatch loops over the rows and calls the user's process(context) for each. See
// js_worker.cc for the C++ side of the protocol.
#pragma once

namespace flowengine {

inline constexpr const char* kDriverSource = R"JS(
(function (userProcess, inNames, inTypes, outNames, routeNames, native, rowFactory) {
  'use strict';
  const nIn = inNames.length;
  const nOut = outNames.length;
  const inIndex = new Map(inNames.map((n, i) => [n, i]));
  const outIndex = new Map(outNames.map((n, i) => [n, i]));
  const routeIndex = new Map(routeNames.map((n, i) => [n, i]));
  const schema = Object.freeze(inNames.map((n, i) => Object.freeze({ name: n, type: inTypes[i] })));

  // Column views, fetched from C++ on first use in a batch (native.column(c)):
  // [0, text, offsets, nulls] strings (offsets in UTF-16 units), [1, float64s, nulls]
  // numbers, [2, bytes] booleans (2 = null), [3, array] anything else (e.g. BigInts).
  const loaded = new Uint8Array(nIn);
  const kinds = new Array(nIn).fill(0);
  const texts = new Array(nIn).fill(''), offsets = new Array(nIn).fill(null);
  const nulls = new Array(nIn).fill(null), numbers = new Array(nIn).fill(null);
  const anys = new Array(nIn).fill(null);
  function load(c) {
    const v = native.column(c);
    kinds[c] = v[0];
    if (v[0] === 0) { texts[c] = v[1]; offsets[c] = v[2]; nulls[c] = v[3]; }
    else if (v[0] === 1) { numbers[c] = v[1]; nulls[c] = v[2]; }
    else if (v[0] === 2) { nulls[c] = v[1]; }
    else { anys[c] = v[1]; }
    loaded[c] = 1;
  }
  function get(c, i) {
    if (loaded[c] === 0) load(c);
    switch (kinds[c]) {
      case 0: return nulls[c][i] ? null : texts[c].substring(offsets[c][i], offsets[c][i + 1]);
      case 1: return nulls[c][i] ? null : numbers[c][i];
      case 2: { const b = nulls[c][i]; return b === 2 ? null : b === 1; }
      default: return anys[c][i];
    }
  }
  function release() {
    loaded.fill(0);
    texts.fill(''); offsets.fill(null); nulls.fill(null); numbers.fill(null); anys.fill(null);
  }
  // makeRow(r) builds { column: value } with an object literal generated for the schema.
  const makeRow = rowFactory(get);
  let setVals = null;  // values set by setField, as strings (null for empty)
  let setList = null;  // their flat indices r * nOut + c, in the order they were set
  let moves = null;    // moves[r]: route index of context.route.send, or -1
  let copies = null;   // [r, route, r, route, ...] from context.route.sendCopy
  let progress = null; // progress[0] = rows started, read by the watchdog
  let r = 0;
  let rowObject = null;

  function value(name) {
    const c = inIndex.get(name);
    if (c === undefined) {
      throw new Error(`Unknown input column '${name}'; input columns: ${inNames.join(', ')}`);
    }
    return get(c, r);
  }
  function route(name) {
    const i = routeIndex.get(name);
    if (i === undefined) {
      throw new Error(`Unknown route '${name}'; routes: ${routeNames.length ? routeNames.join(', ') : '(none configured)'}`);
    }
    return i;
  }
  function pad(n, width) { return String(n).padStart(width, '0'); }
  function groupThousands(s) { return s.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function formatNumber(v, pattern) {
    const m = /^([NFPDnfpd])(\d*)$/.exec(pattern);
    if (!m) throw new Error(`Unknown number format '${pattern}'; use N2, F2, P1 or D6`);
    const kind = m[1].toUpperCase();
    const digits = m[2] === '' ? (kind === 'D' ? 0 : 2) : Number(m[2]);
    if (kind === 'F') return v.toFixed(digits);
    if (kind === 'P') return (v * 100).toFixed(digits) + ' %';
    if (kind === 'D') {
      const s = String(Math.trunc(Math.abs(v))).padStart(digits, '0');
      return v < 0 ? '-' + s : s;
    }
    const [whole, frac] = Math.abs(v).toFixed(digits).split('.');
    return (v < 0 ? '-' : '') + groupThousands(whole) + (frac !== undefined ? '.' + frac : '');
  }
  function formatDate(d, pattern) {
    return pattern.replace(/yyyy|MM|dd|HH|mm|ss|fff/g, (t) => {
      switch (t) {
        case 'yyyy': return pad(d.getUTCFullYear(), 4);
        case 'MM': return pad(d.getUTCMonth() + 1, 2);
        case 'dd': return pad(d.getUTCDate(), 2);
        case 'HH': return pad(d.getUTCHours(), 2);
        case 'mm': return pad(d.getUTCMinutes(), 2);
        case 'ss': return pad(d.getUTCSeconds(), 2);
        default: return pad(d.getUTCMilliseconds(), 3);
      }
    });
  }
  const hex = '0123456789abcdef';

  const context = Object.freeze({
    input: Object.freeze({
      current() {
        if (rowObject === null) rowObject = makeRow(r);
        return rowObject;
      },
      getValue: value,
      schema() { return schema; },
    }),
    output: Object.freeze({
      setField(name, v) {
        const c = outIndex.get(name);
        if (c === undefined) {
          throw new Error(`Unknown output column '${name}'; output columns: ${outNames.join(', ')}`);
        }
        setList.push(r * nOut + c);
        setVals.push((v === null || v === undefined) ? null : String(v));
      },
    }),
    validate: Object.freeze({
      required(names) {
        for (const n of names) {
          const v = value(n);
          if (v === null || v === '') return false;
        }
        return true;
      },
    }),
    route: Object.freeze({
      send(name) { moves[r] = route(name); },
      sendCopy(name) { copies.push(r, route(name)); },
    }),
    utils: Object.freeze({
      now() { return new Date(); },
      newGuid() {
        let s = '';
        for (let i = 0; i < 36; ++i) {
          if (i === 8 || i === 13 || i === 18 || i === 23) { s += '-'; continue; }
          let d = (Math.random() * 16) | 0;
          if (i === 14) d = 4;
          if (i === 19) d = (d & 3) | 8;
          s += hex[d];
        }
        return s;
      },
      format(v, pattern) {
        if (v === null || v === undefined) return '';
        if (v instanceof Date) return formatDate(v, String(pattern));
        if (typeof v === 'number' || typeof v === 'bigint') return formatNumber(Number(v), String(pattern));
        return String(v);
      },
      log(level, message) { native.log(String(level), String(message), r); },
    }),
  });

  // Returns [indices, lengths, text] (the values set) when every row ran, else
  // { row, type, value } for a process() that returned something other than true or false.
  // Exceptions propagate to C++; the next batch starts with release().
  function runBatch(start, n, vals, set, mv, cp, prog) {
    release();  // also after a batch that ended in an exception
    setVals = vals; setList = set; moves = mv; copies = cp; progress = prog;
    for (r = start; r < n; ++r) {
      progress[0] = r + 1;
      rowObject = null;
      const result = userProcess(context);
      if (result === true) continue;
      if (result === false) {
        if (moves[r] === -1) moves[r] = -2;  // a row already sent to a route stays routed
        continue;
      }
      release();
      return { row: r, type: result === null ? 'null' : typeof result, value: String(result) };
    }
    release();  // the views point into C++ buffers that the next batch reuses
    // The values set, for C++ in one piece: [indices, UTF-16 lengths (-1: null), text].
    const m = setList.length;
    const indices = new Int32Array(m), lengths = new Int32Array(m);
    for (let k = 0; k < m; ++k) {
      indices[k] = setList[k];
      const v = setVals[k];
      lengths[k] = v === null ? -1 : v.length;
    }
    return [indices, lengths, setVals.join('')];
  }
  return runBatch;
})
)JS";

}  // namespace flowengine
