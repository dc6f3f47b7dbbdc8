// The engine's JavaScript, in two realms of one isolate (core/js/script_isolate.h):
//
//   kDriverSource  runs in the driver's context, which the user's script never sees: the
//                  column views, the values of a row, the values set, routes and copies.
//                  Nothing from this realm is handed to the user's script (only primitives
//                  cross), so no redefinition in the user's realm can reach it.
//   kApiSource     runs in the user's context before the user's script: the `context`
//                  object, the per-row loop and `console`. Written so that nothing the script
//                  may redefine later changes it: the builtins it needs are captured before
//                  the script runs and called directly; it stores only into typed arrays;
//                  it calls no method of a user-reachable prototype. It also removes what the
//                  sandbox does not offer (SharedArrayBuffer, Atomics, WebAssembly).
//
// The driver calls one function of the user's realm, makeRow (the row object's literal,
// compiled by the engine before the user's script), and only passes its result on.
// The API calls the driver's functions directly (closures); an exception inside one (say a
// stack overflow) is replaced by an error of the user's realm, so that no object of the
// driver's realm reaches the script. Codes shared with C++ are placeholders filled in by
// js::DriverSource() / js::ApiSource() (core/js/js_protocol.h).
#pragma once

namespace flowengine::js {

inline constexpr const char* kDriverSource = R"JS(
(function (inNames, outNames, routeNames, native, routesNote) {
  'use strict';
  const VIEW_NUMBERS = $VIEW_NUMBERS$, VIEW_BOOLS = $VIEW_BOOLS$;
  const SET_EMPTY = $SET_EMPTY$, SET_TRUE = $SET_TRUE$, SET_FALSE = $SET_FALSE$;
  const SET_OTHER = $SET_OTHER$, FLUSH_UNITS = $FLUSH_UNITS$, FLUSH_PIECES = $FLUSH_PIECES$;
  const VIEW_BLOCK = $VIEW_BLOCK$, SPAN_LENGTH_MASK = $SPAN_LENGTH_MASK$;
  const SPAN_ESCAPED = $SPAN_ESCAPED$, SPAN_WIDE = $SPAN_WIDE$, SPAN_LATIN1 = $SPAN_LATIN1$;
  const SPAN_ELSEWHERE = SPAN_ESCAPED | SPAN_WIDE | SPAN_LATIN1;
  const nIn = inNames.length;
  const nOut = outNames.length;
  const inIndex = new Map();
  const outIndex = new Map();
  const routeIndex = new Map();
  for (let i = 0; i < nIn; ++i) inIndex.set(inNames[i], i);
  for (let i = 0; i < nOut; ++i) outIndex.set(outNames[i], i);
  for (let i = 0; i < routeNames.length; ++i) routeIndex.set(routeNames[i], i);
  const dateTime = Function.prototype.call.bind(Date.prototype.getTime);

  // Column views, fetched from C++ on first use in a batch (native.column(c)).
  const loaded = new Uint8Array(nIn);
  let allLoaded = false;
  // The span words of the string columns (shared by all of them: one view of the batch).
  let spans = null;
  const SPAN_STRIDE = nIn * 2;
  const kinds = new Array(nIn).fill(0);
  const offsets = new Array(nIn).fill(null);
  // The block's texts, a window of rows [winStart, winEnd) at a time (native.window(row)):
  // its bytes as one-byte text for the ASCII fields (from byte `base` of the block), the
  // one-byte text of the other fields whose characters are all Latin-1 (SPAN_LATIN1, from
  // `narrowBase`) and the two-byte text of the rest (SPAN_WIDE, from `wideBase`).
  let text = '', base = 0, wide = '', wideBase = 0, narrow = '', narrowBase = 0;
  let winStart = 0, winEnd = 0;
  function window(i) {
    const w = native.window(i);
    text = w[0]; base = w[1]; winStart = i; winEnd = w[2]; wide = w[3]; wideBase = w[4];
    narrow = w[5]; narrowBase = w[6];
  }
  const nulls = new Array(nIn).fill(null), numbers = new Array(nIn).fill(null);
  const anys = new Array(nIn).fill(null);
  function load(c) {
    const v = native.column(c);
    kinds[c] = v[0];
    if (v[0] === VIEW_BLOCK) { offsets[c] = v[1]; spans = v[1]; }
    else if (v[0] === VIEW_NUMBERS) { numbers[c] = v[1]; nulls[c] = v[2]; }
    else if (v[0] === VIEW_BOOLS) { nulls[c] = v[1]; }
    else { anys[c] = v[1]; }
    loaded[c] = 1;
  }
  function get(c, i) {
    if (loaded[c] === 0) load(c);
    switch (kinds[c]) {
      case VIEW_BLOCK:
        if (i >= winEnd || i < winStart) window(i);
        return str((i * nIn + c) * 2);
      case VIEW_NUMBERS: return nulls[c][i] ? null : numbers[c][i];
      case VIEW_BOOLS: { const b = nulls[c][i]; return b === 2 ? null : b === 1; }
      default: return anys[c][i];
    }
  }
  // The string field at k (its span's first word), with the window holding its row.
  function str(k) {
    const flags = spans[k + 1];
    const length = flags & SPAN_LENGTH_MASK;
    if (length === 0) return null;
    if ((flags & SPAN_ELSEWHERE) === 0) {  // an ASCII field, in the block's bytes
      const at = spans[k] - base;
      return text.substring(at, at + length);
    }
    if ((flags & SPAN_ESCAPED) !== 0) return native.unescaped(k >> 1);
    if ((flags & SPAN_WIDE) !== 0) {
      const at = spans[k] - wideBase;
      return wide.substring(at, at + length);
    }
    const at = spans[k] - narrowBase;
    return narrow.substring(at, at + length);
  }
  function loadAll() {
    for (let c = 0; c < nIn; ++c) if (loaded[c] === 0) load(c);
    allLoaded = true;
  }
  // The row object of row r: its values, straight-line code made for the schema's column
  // types (js::RowReadSource), given to makeRow, which builds the object in the user's realm
  // (compiled by the engine before the user's script; handed over by the API), e.g. for
  // (id int64, name string):
  //   return makeRow(
  //     kinds[0] === VIEW_NUMBERS ? (nulls[0][r] ? null : numbers[0][r]) : anys[0][r],
  //     str(k + 2));
  // The driver only passes the object on (to the API's current()): it never reads it.
  let makeRow = null;
  function readRow(r) {
    if (!allLoaded) loadAll();
    if (r >= winEnd || r < winStart) window(r);
    const k = r * SPAN_STRIDE;
$ROW_READS$
  }
  function release() {
    loaded.fill(0);
    allLoaded = false;
    spans = null;
    text = ''; base = 0; wide = ''; wideBase = 0; narrow = ''; narrowBase = 0;
    winStart = 0; winEnd = 0;
    offsets.fill(null); nulls.fill(null); numbers.fill(null); anys.fill(null);
  }

  let moves = null;   // Int32Array: where each row goes (C++ and the API share it)
  // setField calls, in call order: setIdx[k] = r * nOut + c, setLen[k] its kind or length
  // (SET_* or UTF-16 units of its piece of the concatenated text). Int32Arrays over C++
  // memory; native.grow() gives larger ones when they are full.
  let setIdx = null, setLen = null, setCount = 0;
  // The text of string and number values not yet handed to C++: joined and handed over
  // (native.text) every FLUSH_UNITS units or FLUSH_PIECES pieces, so that the values set die
  // young and no batch-sized string (a V8 large object) is ever made.
  let pieces = [], pendingUnits = 0;
  function flush() {
    if (pieces.length === 0) return;
    native.text(pieces.length === 1 ? pieces[0] : pieces.join(''));
    pieces.length = 0;
    pendingUnits = 0;
  }
  function grow() {
    const grown = native.grow(setCount);
    setIdx = grown[0]; setLen = grown[1];
  }
  // Room for one more value set. The steps of a setField that call out (and so may throw: a
  // stack overflow in a script's catch handler) come before anything of the value is
  // recorded: this, then the push of its text (which adds nothing when it throws); what
  // follows only stores. So the lengths and the text handed over always agree, whatever
  // throws where.
  function reserve() {
    if (setCount === setIdx.length) grow();
    if (pendingUnits >= FLUSH_UNITS || pieces.length >= FLUSH_PIECES) flush();
  }
  // setField of an object, function or symbol (field k = r * nOut + c): converted now, by C++,
  // as the value is when it is set (a Date or object changed afterwards must not change what
  // was written): its text, null for an empty field, or [problem]. User code may run here
  // (toJSON, toString), even a nested setField: so before this call is recorded.
  function setOther(v, k) {
    const text = native.convert(v);
    reserve();
    if (text === null) {
      setIdx[setCount] = k;
      setLen[setCount++] = SET_EMPTY;
    } else if (typeof text === 'string') {
      pieces.push(text);
      pendingUnits += text.length;
      setIdx[setCount] = k;
      setLen[setCount++] = text.length;
    } else {
      others.push(text[0]);  // why it cannot be written: the row fails in C++
      setIdx[setCount] = k;
      setLen[setCount++] = SET_OTHER;
    }
    return true;
  }
  let others = [];    // values that are neither strings, numbers, booleans nor empty
  let copies = null;  // sendCopy calls: r, route, r, route, ...

  function pad(n, width) { return String(n).padStart(width, '0'); }
  function groupThousands(s) { return s.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  // A number pattern (N2, F2, P1, D6) as [kind, digits], or undefined.
  function numberPattern(pattern) {
    const m = /^([NFPDnfpd])(\d*)$/.exec(pattern);
    if (m === null) return undefined;
    const kind = m[1].toUpperCase();
    const digits = m[2] === '' ? (kind === 'D' ? 0 : 2) : Number(m[2]);
    return digits > 100 ? undefined : [kind, digits];
  }
  // An integer (a BigInt), every digit exact: an int64 beyond 2^53 reaches the script as a
  // BigInt, and a number from 1e21 on is an integer that toFixed would write as 1e+21.
  function formatInteger(b, kind, digits) {
    const sign = b < 0n ? '-' : '';
    const magnitude = b < 0n ? -b : b;
    const t = String(kind === 'P' ? magnitude * 100n : magnitude);
    if (kind === 'D') return sign + t.padStart(digits, '0');
    const fraction = digits === 0 ? '' : '.' + '0'.repeat(digits);
    if (kind === 'F') return sign + t + fraction;
    if (kind === 'P') return sign + t + fraction + ' %';
    return sign + groupThousands(t) + fraction;
  }
  function formatNumber(v, pattern) {
    const p = numberPattern(pattern);
    if (p === undefined) return undefined;
    const kind = p[0], digits = p[1];
    if (Number.isFinite(v) && Math.abs(v) >= (kind === 'P' ? 1e19 : 1e21)) {
      return formatInteger(BigInt(v), kind, digits);
    }
    if (kind === 'F') return v.toFixed(digits);
    if (kind === 'P') return (v * 100).toFixed(digits) + ' %';
    if (kind === 'D') {
      if (!Number.isFinite(v)) return String(v);  // NaN, Infinity: not padded
      const s = String(Math.trunc(Math.abs(v))).padStart(digits, '0');
      return v < 0 ? '-' + s : s;
    }
    const parts = Math.abs(v).toFixed(digits).split('.');
    return (v < 0 ? '-' : '') + groupThousands(parts[0]) + (parts.length > 1 ? '.' + parts[1] : '');
  }
  function formatDate(time, pattern) {
    const d = new Date(time);
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

  return {
    beginBatch(mv, idx, len, cp) {
      release();
      moves = mv; setIdx = idx; setLen = len; setCount = 0; copies = cp;
      pieces.length = 0; pendingUnits = 0; others = [];
    },
    // What the batch set: [count, others]; the text of the string and number values is handed
    // over (native.text) before this returns.
    collect() { flush(); return [setCount, others]; },
    endBatch() {
      release();  // the views point into C++ buffers that the next batch reuses
      moves = null; setIdx = null; setLen = null; setCount = 0; copies = null;
      pieces.length = 0; pendingUnits = 0; others = [];
    },
    // The row object of row r (made by makeRow in the user's realm).
    rowObject: readRow,
    setRowMaker(f) { makeRow = f; },
    // One value, or undefined for a name that is not an input column.
    value(name, r) {
      const c = inIndex.get(name);
      return c === undefined ? undefined : get(c, r);
    },
    // Small enough for TurboFan to inline into the API's setField (objects, functions and
    // symbols take setOther).
    setField(name, v, r) {
      const c = outIndex.get(name);
      if (c === undefined) return false;
      const t = typeof v;
      if (t === 'object' && v !== null || t === 'function' || t === 'symbol') {
        return setOther(v, r * nOut + c);
      }
      // reserve() first; then the piece (a push that throws adds nothing), then its record.
      if (t === 'string') {
        reserve();
        pieces.push(v);
        pendingUnits += v.length;
        setIdx[setCount] = r * nOut + c;
        setLen[setCount++] = v.length;
      } else if (t === 'number' || t === 'bigint') {
        const s = String(v);  // a primitive: no code of the user's realm runs
        reserve();
        pieces.push(s);
        pendingUnits += s.length;
        setIdx[setCount] = r * nOut + c;
        setLen[setCount++] = s.length;
      } else {
        reserve();
        setIdx[setCount] = r * nOut + c;
        setLen[setCount++] = v === null || v === undefined ? SET_EMPTY : v ? SET_TRUE : SET_FALSE;
      }
      return true;
    },
    send(name, r) {
      const i = routeIndex.get(name);
      if (i === undefined) return false;
      moves[r] = i;
      return true;
    },
    sendCopy(name, r) {
      const i = routeIndex.get(name);
      if (i === undefined) return false;
      copies.push(r, i);
      return true;
    },
    // The formatted text; undefined for a pattern it does not know; null when `v` is neither
    // a number nor a Date (the API then writes its text). `pattern` is a string. No code of
    // the user's realm runs here.
    format(v, pattern) {
      if (v === null || v === undefined) return '';
      let time;
      try { time = dateTime(v); } catch (e) { time = undefined; }  // a Date of any realm
      if (time !== undefined) return formatDate(time, pattern);
      if (typeof v === 'number') return formatNumber(v, pattern);
      if (typeof v === 'bigint') {
        const p = numberPattern(pattern);
        return p === undefined ? undefined : formatInteger(v, p[0], p[1]);
      }
      return null;
    },
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
    log(level, message) { native.log(level, message); },  // strings, from the API
    inNames: inNames.join(', '),
    outNames: outNames.join(', '),
    routeNames: routeNames.length ? routeNames.join(', ') : routesNote,
  };
})
)JS";

inline constexpr const char* kApiSource = R"JS(
(function (d, inNames, inTypes, makeRow, progress, nativeConsole) {
  'use strict';
  const TO_MAIN = $TO_MAIN$, FILTERED = $FILTERED$, BATCH_DONE = $BATCH_DONE$;
  const ROW_JOBS = $ROW_JOBS$, ROWS = $PROGRESS_ROWS$, JOBS = $PROGRESS_JOBS$;
  // Captured before the user's script runs, and only ever called directly.
  const UserDate = Date, UserError = Error, freeze = Object.freeze;
  const defineProperty = Object.defineProperty;
  const dRowObject = d.rowObject, dValue = d.value, dSetField = d.setField, dSend = d.send;
  const dSendCopy = d.sendCopy, dFormat = d.format, dNewGuid = d.newGuid, dLog = d.log;
  const IN_NAMES = d.inNames, OUT_NAMES = d.outNames, ROUTE_NAMES = d.routeNames;
  d.setRowMaker(makeRow);

  delete globalThis.SharedArrayBuffer;
  delete globalThis.Atomics;
  delete globalThis.WebAssembly;
  const consoleObject = {};
  const levels = ['log', 'info', 'warn', 'error', 'debug'];
  for (let i = 0; i < levels.length; ++i) {
    const level = levels[i];
    defineProperty(consoleObject, level, {
      value: function (...args) { nativeConsole(level, args); },
      writable: true, enumerable: true, configurable: true,
    });
  }
  defineProperty(globalThis, 'console', {
    value: consoleObject, writable: true, enumerable: false, configurable: true,
  });

  const schemaList = [];
  for (let i = 0; i < inNames.length; ++i) {
    schemaList[i] = freeze({ name: inNames[i], type: inTypes[i] });
  }
  const schema = freeze(schemaList);

  // An error of this realm for a failure inside the driver (e.g. a stack overflow): the
  // driver's own error object never reaches the script.
  function internal(what) { return new UserError('FlowEngine could not ' + what); }

  let r = 0;
  let rowObject = null;
  let moves = null;
  let userProcess = null;
  let lastResult;

  // A row whose process() made or settled a promise (progress[JOBS], set by C++'s promise
  // hook) stops the loop with ROW_JOBS, `r` still at that row: C++ runs the promise jobs it
  // queued (then callbacks, the rest of an async function after an await) as part of the row,
  // so that what they set or route is the row's, then carries on with the next row.
  const RUN_ROWS = 256;
  function runRows(start, n) {
    for (r = start; r < n; ++r) {
      progress[ROWS] = r + 1;
      rowObject = null;
      const result = userProcess(context);
      if (result === true) {
        if (progress[JOBS] === 0) continue;
        return ROW_JOBS;
      }
      if (result === false) {
        if (moves[r] === TO_MAIN) moves[r] = FILTERED;  // a row sent to a route stays routed
        if (progress[JOBS] === 0) continue;
        return ROW_JOBS;
      }
      lastResult = result;
      return r;
    }
    return BATCH_DONE;
  }

  const context = freeze({
    input: freeze({
      current() {
        if (rowObject === null) {
          try { rowObject = dRowObject(r); } catch (e) { throw internal('read the row'); }
        }
        return rowObject;
      },
      getValue(name) {
        let v;
        try { v = dValue(name, r); } catch (e) { throw internal('read a value'); }
        if (v === undefined) {
          throw new UserError(`Unknown input column '${name}'; input columns: ${IN_NAMES}`);
        }
        return v;
      },
      schema() { return schema; },
    }),
    output: freeze({
      setField(name, value) {
        let ok;
        try { ok = dSetField(name, value, r); } catch (e) { throw internal('set a value'); }
        if (!ok) {
          throw new UserError(`Unknown output column '${name}'; output columns: ${OUT_NAMES}`);
        }
      },
    }),
    validate: freeze({
      required(names) {
        const n = names.length;
        for (let i = 0; i < n; ++i) {
          const name = names[i];
          let v;
          try { v = dValue(name, r); } catch (e) { throw internal('read a value'); }
          if (v === undefined) {
            throw new UserError(`Unknown input column '${name}'; input columns: ${IN_NAMES}`);
          }
          if (v === null || v === '') return false;
        }
        return true;
      },
    }),
    route: freeze({
      send(name) {
        let ok;
        try { ok = dSend(name, r); } catch (e) { throw internal('route the row'); }
        if (!ok) throw new UserError(`Unknown route '${name}'; routes: ${ROUTE_NAMES}`);
      },
      sendCopy(name) {
        let ok;
        try { ok = dSendCopy(name, r); } catch (e) { throw internal('copy the row'); }
        if (!ok) throw new UserError(`Unknown route '${name}'; routes: ${ROUTE_NAMES}`);
      },
    }),
    utils: freeze({
      now() { return new UserDate(); },
      newGuid() {
        try { return dNewGuid(); } catch (e) { throw internal('make a GUID'); }
      },
      format(value, pattern) {
        const p = `${pattern}`;  // the script's own conversion, in its realm
        let text;
        try { text = dFormat(value, p); } catch (e) { throw internal('format a value'); }
        if (text === undefined) {
          throw new UserError(`Unknown format '${p}'; use N2, F2, P1 or D6 for numbers, yyyy-MM-dd HH:mm:ss.fff for dates`);
        }
        return text === null ? `${value}` : text;
      },
      log(level, message) {
        const l = `${level}`, m = `${message}`;
        try { dLog(l, m); } catch (e) { throw internal('log'); }
      },
    }),
  });

  return freeze({
    setProcess(p) { userProcess = p; },
    beginBatch(mv) { moves = mv; rowObject = null; lastResult = undefined; },
    // Rows [start, n): BATCH_DONE, ROW_JOBS, or the row whose process() returned neither true
    // nor false.
    // Exceptions and terminations propagate to C++, which carries on after the row.
    // In runs of RUN_ROWS rows: TurboFan then compiles the per-row loop (runRows) once, when
    // it is called after getting hot, instead of twice (on-stack replacement in the middle of
    // the first block, then again for the next call); this outer loop, a few iterations once
    // per block, is seldom hot enough to be compiled.
    runBatch(start, n) {
      for (let s = start; s < n; s += RUN_ROWS) {
        const bad = runRows(s, n - s > RUN_ROWS ? s + RUN_ROWS : n);
        if (bad !== BATCH_DONE) return bad;
      }
      return BATCH_DONE;
    },
    badResult() { return lastResult; },
    endBatch() { moves = null; rowObject = null; lastResult = undefined; },
  });
})
)JS";

}  // namespace flowengine::js
