// The server's root endpoints, databases, their security objects, and the registry that opens them.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './server.js';
import './databases.js';
import './security.js';
import './open-dbs.js';
