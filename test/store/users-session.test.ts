// Users in _users, cookie sessions and proxy authentication over HTTP.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './users.js';
import './session.js';
import './proxy-auth.js';
