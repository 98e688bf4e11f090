// The design-function sandbox: the engine, then filter, map, reduce and validate functions in it.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './sandbox-engine.js';
import './sandbox-filter-map.js';
import './sandbox-reduce.js';
import './sandbox-validate.js';
