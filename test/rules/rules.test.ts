// Loading the rules, their formats and messages, the generated validate_doc_update and views.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './load.js';
import './formats.js';
import './messages.js';
import './vdu-source.js';
import './views.js';
