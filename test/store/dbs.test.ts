// The server's root endpoints, databases and their security objects.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './server.js';
import './databases.js';
import './security.js';
