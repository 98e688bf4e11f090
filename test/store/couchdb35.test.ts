// The embedded store answering as Apache CouchDB 3.5 does, documents then revisions.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './couchdb35-docs.js';
import './couchdb35-revs.js';
