import { SandboxThrow } from './errors.js';

/**
 * Both halves of the call protocol: the code each VM runs once at boot (CouchDB's
 * design-function globals and the wrapper every compiled function is called through) and the
 * host's reading of its replies.
 *
 * The host crosses the WASM boundary once per call with one string in (the arguments as a
 * JSON array) and gets one string back, tagged by its first character:
 *   R<json>  returned (for a map call: the emitted rows)   U  returned undefined
 *   T<json>  threw; an Error is sent as {name, message, stack} because JSON.stringify(error) is {}
 * Building the arguments handle by handle instead measured 12-15% slower (a 1.2 KB document,
 * Node 20) and costs one boundary crossing per property; JSON.parse inside the VM is the fast path.
 *
 * Everything the protocol needs is captured before any design code runs, so a function that
 * replaces JSON, Array.prototype or Reflect only spoils its own results, never the protocol.
 * Out-of-memory is rethrown (not reported as a throw) so the host can tell it from user errors;
 * an interrupt (time limit) cannot be caught by JavaScript at all.
 */
export const PRELUDE = String.raw`(function (hostLog) {
  var parse = JSON.parse;
  var stringify = JSON.stringify;
  var apply = Reflect.apply;
  var join = Function.prototype.call.bind(Array.prototype.join);
  var isArrayNative = Array.isArray;
  var ErrorCtor = Error;
  var InternalErrorCtor = InternalError;
  var emitted = null;

  function toJSON(value) { return stringify(value); }

  globalThis.toJSON = toJSON;
  globalThis.isArray = function isArray(value) { return isArrayNative(value); };
  globalThis.log = function log(message) {
    hostLog(typeof message === 'string' ? message : String(stringify(message)));
  };
  globalThis.sum = function sum(values) {
    var total = 0;
    for (var i in values) total += values[i];
    return total;
  };
  // A JSON copy at emit time: a map function that mutates a value after emitting it
  // must not change what was emitted. Outside a map call there is nobody to emit to.
  globalThis.emit = function emit(key, value) {
    if (emitted !== null) emitted[emitted.length] = stringify([key, value === undefined ? null : value]);
  };

  function isOutOfMemory(e) {
    return e instanceof InternalErrorCtor && e.message === 'out of memory';
  }

  function describe(e) {
    var value = e;
    try {
      if (e instanceof ErrorCtor) value = { name: String(e.name), message: String(e.message), stack: String(e.stack || '') };
      var json = stringify(value);
      if (json !== undefined) return json;
    } catch (ignored) {}
    try { return stringify(String(e)); } catch (ignored) { return '"unprintable exception"'; }
  }

  return function define(fn) {
    return function invoke(argsJson, collect) {
      emitted = collect ? [] : null;
      try {
        var result = apply(fn, undefined, parse(argsJson));
        if (collect) return 'R[' + join(emitted, ',') + ']';
        var json = stringify(result);
        return json === undefined ? 'U' : 'R' + json;
      } catch (e) {
        if (isOutOfMemory(e)) throw e;
        return 'T' + describe(e);
      } finally {
        emitted = null;
      }
    };
  };
})`;

export function isOutOfMemory(dumped: unknown): boolean {
  if (typeof dumped !== 'object' || dumped === null) return false;
  const { name, message } = dumped as { name?: unknown; message?: unknown };
  return name === 'InternalError' && message === 'out of memory';
}

export function decodeReply(reply: string, label: string): unknown {
  const body = reply.slice(1);
  switch (reply[0]) {
    case 'R':
      return JSON.parse(body);
    case 'U':
      return undefined;
    case 'T':
      throw new SandboxThrow(label, JSON.parse(body));
    default:
      throw new Error(`${label}: unexpected reply from the sandbox`);
  }
}
