// The store's authentication code (basic, passwords, proxy, session, _users), unit by unit.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './auth-basic.js';
import './auth-passwords.js';
import './auth-proxy.js';
import './auth-session.js';
import './auth-users-db.js';
