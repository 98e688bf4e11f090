// Changes feeds, purges, and replication through them.
// One process for all of it (one start of tap, tsx and the store, docs/testing.md); each part
// is a module of its own, with its own names and helpers, run in this order.
import './changes.js';
import './purge.js';
import './replication.js';
