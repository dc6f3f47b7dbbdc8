// The JavaScript side of a transform. Three scripts, each compiled once per isolate:
//
//   kLockdownSource  runs first in the driver's own context and freezes every object reachable
//                    from that context's global (its intrinsics), so that a user script that
//                    reaches a driver object's prototype chain cannot change how the driver
//                    works.
//   kUserSetupSource runs in the user's context before the user's script: it keeps what the
//                    engine needs from that realm (Date, for utils.now), removes what the
//                    sandbox does not offer (SharedArrayBuffer, Atomics, WebAssembly) and
//                    installs `console`.
//   kDriverSource    runs in the driver's context: it builds the `context` object once and
//                    returns the functions C++ calls per batch (beginBatch, runBatch,
//                    endBatch, badResult). runBatch loops over the rows and calls the user's
//                    process(context) for each.
//
// The driver runs in a context of its own: redefining a global or a prototype in the user's
// script changes the user's realm only. Codes shared with C++ are placeholders filled in by
// js::DriverSource() (core/js/js_protocol.h).
#pragma once

namespace flowengine::js {

inline constexpr const char* kLockdownSource = R"JS(
(function () {
  'use strict';
  const seen = new WeakSet();
  const queue = [globalThis];
  while (queue.length > 0) {
    const o = queue.pop();
    if (o === null || o === undefined || (typeof o !== 'object' && typeof o !== 'function')) continue;
    if (seen.has(o)) continue;
    seen.add(o);
    for (const key of Reflect.ownKeys(o)) {
      const d = Reflect.getOwnPropertyDescriptor(o, key);
      if (d === undefined) continue;
      if ('value' in d) {
        queue.push(d.value);
      } else {
        queue.push(d.get);
        queue.push(d.set);
      }
    }
    queue.push(Reflect.getPrototypeOf(o));
    Object.freeze(o);
  }
})
)JS";

inline constexpr const char* kUserSetupSource = R"JS(
(function (nativeConsole) {
  'use strict';
  const UserDate = Date;
  delete globalThis.SharedArrayBuffer;
  delete globalThis.Atomics;
  delete globalThis.WebAssembly;
  const consoleObject = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    Object.defineProperty(consoleObject, level, {
      value: function (...args) { nativeConsole(level, args); },
      writable: true, enumerable: true, configurable: true,
    });
  }
  Object.defineProperty(globalThis, 'console', {
    value: consoleObject, writable: true, enumerable: false, configurable: true,
  });
  return function now() { return new UserDate(); };
})
)JS";

inline constexpr const char* kDriverSource = R"JS(
(function (userProcess, inNames, inTypes, outNames, routeNames, native, userNow, progress) {
  'use strict';
  const TO_MAIN = $TO_MAIN$, FILTERED = $FILTERED$, BATCH_DONE = $BATCH_DONE$;
  const VIEW_TEXT = $VIEW_TEXT$, VIEW_NUMBERS = $VIEW_NUMBERS$, VIEW_BOOLS = $VIEW_BOOLS$;
  const nIn = inNames.length;
  const nOut = outNames.length;
  const inIndex = new Map();
  const outIndex = new Map();
  const routeIndex = new Map();
  for (let i = 0; i < nIn; ++i) inIndex.set(inNames[i], i);
  for (let i = 0; i < nOut; ++i) outIndex.set(outNames[i], i);
  for (let i = 0; i < routeNames.length; ++i) routeIndex.set(routeNames[i], i);
  const schemaList = [];
  for (let i = 0; i < nIn; ++i) schemaList.push(Object.freeze({ name: inNames[i], type: inTypes[i] }));
  const schema = Object.freeze(schemaList);
  const dateTime = Function.prototype.call.bind(Date.prototype.getTime);

  // Column views, fetched from C++ on first use in a batch (native.column(c)).
  const loaded = new Uint8Array(nIn);
  const kinds = new Array(nIn).fill(0);
  const texts = new Array(nIn).fill(''), offsets = new Array(nIn).fill(null);
  const nulls = new Array(nIn).fill(null), numbers = new Array(nIn).fill(null);
  const anys = new Array(nIn).fill(null);
  function load(c) {
    const v = native.column(c);
    kinds[c] = v[0];
    if (v[0] === VIEW_TEXT) { texts[c] = v[1]; offsets[c] = v[2]; nulls[c] = v[3]; }
    else if (v[0] === VIEW_NUMBERS) { numbers[c] = v[1]; nulls[c] = v[2]; }
    else if (v[0] === VIEW_BOOLS) { nulls[c] = v[1]; }
    else { anys[c] = v[1]; }
    loaded[c] = 1;
  }
  function get(c, i) {
    if (loaded[c] === 0) load(c);
    switch (kinds[c]) {
      case VIEW_TEXT: return nulls[c][i] ? null : texts[c].substring(offsets[c][i], offsets[c][i + 1]);
      case VIEW_NUMBERS: return nulls[c][i] ? null : numbers[c][i];
      case VIEW_BOOLS: { const b = nulls[c][i]; return b === 2 ? null : b === 1; }
      default: return anys[c][i];
    }
  }
  function release() {
    loaded.fill(0);
    texts.fill(''); offsets.fill(null); nulls.fill(null); numbers.fill(null); anys.fill(null);
  }
  // makeRow(r): { column: value } as an object literal of the schema's columns.
  const makeRow = native.rowFactory(get);

  let moves = null;    // Int32Array: where each row goes (TO_MAIN, FILTERED, a route index)
  let setRows = null;  // setField calls: r * nOut + c, in call order
  let setVals = null;  // ... and their values, unconverted (C++ converts each on its own)
  let copies = null;   // sendCopy calls: r, route, r, route, ...
  let r = 0;
  let rowObject = null;
  let lastResult;

  function text(v) { return typeof v === 'string' ? v : String(v); }
  function value(name) {
    const c = inIndex.get(name);
    if (c === undefined) {
      throw new Error(`Unknown input column '${text(name)}'; input columns: ${inNames.join(', ')}`);
    }
    return get(c, r);
  }
  function route(name) {
    const i = routeIndex.get(name);
    if (i === undefined) {
      throw new Error(`Unknown route '${text(name)}'; routes: ${routeNames.length ? routeNames.join(', ') : '(none configured)'}`);
    }
    return i;
  }
  function pad(n, width) { return String(n).padStart(width, '0'); }
  function groupThousands(s) { return s.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function formatNumber(v, pattern) {
    const m = /^([NFPDnfpd])(\d*)$/.exec(pattern);
    if (m === null) throw new Error(`Unknown number format '${pattern}'; use N2, F2, P1 or D6`);
    const kind = m[1].toUpperCase();
    const digits = m[2] === '' ? (kind === 'D' ? 0 : 2) : Number(m[2]);
    if (kind === 'F') return v.toFixed(digits);
    if (kind === 'P') return (v * 100).toFixed(digits) + ' %';
    if (kind === 'D') {
      const s = String(Math.trunc(Math.abs(v))).padStart(digits, '0');
      return v < 0 ? '-' + s : s;
    }
    const parts = Math.abs(v).toFixed(digits).split('.');
    return (v < 0 ? '-' : '') + groupThousands(parts[0]) + (parts.length > 1 ? '.' + parts[1] : '');
  }
  function timeOf(v) {  // the time value of a Date of any realm, or undefined
    try { return dateTime(v); } catch (e) { return undefined; }
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
  function frozen(members) { return Object.freeze(Object.assign(Object.create(null), members)); }

  const context = frozen({
    input: frozen({
      current() {
        if (rowObject === null) rowObject = makeRow(r);
        return rowObject;
      },
      getValue: value,
      schema() { return schema; },
    }),
    output: frozen({
      setField(name, v) {
        const c = outIndex.get(name);
        if (c === undefined) {
          throw new Error(`Unknown output column '${text(name)}'; output columns: ${outNames.join(', ')}`);
        }
        setRows.push(r * nOut + c);
        setVals.push(v);
      },
    }),
    validate: frozen({
      required(names) {
        const n = names.length;
        for (let i = 0; i < n; ++i) {
          const v = value(names[i]);
          if (v === null || v === '') return false;
        }
        return true;
      },
    }),
    route: frozen({
      send(name) { moves[r] = route(name); },
      sendCopy(name) { copies.push(r, route(name)); },
    }),
    utils: frozen({
      now: userNow,
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
        const time = timeOf(v);
        if (time !== undefined) return formatDate(new Date(time), text(pattern));
        if (typeof v === 'number' || typeof v === 'bigint') return formatNumber(Number(v), text(pattern));
        return text(v);
      },
      log(level, message) { native.log(text(level), text(message), r); },
    }),
  });

  return Object.freeze({
    beginBatch(mv, rows, vals, cp) {
      release();
      moves = mv; setRows = rows; setVals = vals; copies = cp;
      rowObject = null;
      lastResult = undefined;
    },
    // Rows [start, n): BATCH_DONE, or the row whose process() returned neither true nor false.
    // Exceptions and terminations propagate to C++, which carries on after the row.
    runBatch(start, n) {
      for (r = start; r < n; ++r) {
        progress[0] = r + 1;
        rowObject = null;
        const result = userProcess(context);
        if (result === true) continue;
        if (result === false) {
          if (moves[r] === TO_MAIN) moves[r] = FILTERED;  // a row sent to a route stays routed
          continue;
        }
        lastResult = result;
        return r;
      }
      return BATCH_DONE;
    },
    endBatch() {
      release();  // the views point into C++ buffers that the next batch reuses
      moves = null; setRows = null; setVals = null; copies = null;
      rowObject = null;
      lastResult = undefined;
    },
    badResult() { return lastResult; },
  });
})
)JS";

}  // namespace flowengine::js
