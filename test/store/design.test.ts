// Design documents at work: validate_doc_update, views, and Mango queries.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './validation.js';
import './views.js';
import './find.js';
