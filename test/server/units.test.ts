// The service's configuration, log scrubbing, error handler, request signals and route
// schemas, without a CouchDB.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './config.js';
import './log-scrub.js';
import './error-handler.js';
import './request-signal.js';
import './route-schemas.js';
