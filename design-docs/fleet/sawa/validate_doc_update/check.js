// The checks around the schema: type, database kind, roles, ownership, immutability. The
// generated validate_doc_update calls this with `sawa` = { kind, rules, validators, reason,
// equal }; the gateway runs that same generated function, so both refuse with the same words.
// Order matters for the reason given: permission before content, so a user is not told to fix
// fields of a document they may not write at all.
export default function (newDoc, oldDoc, userCtx, secObj, sawa) {
  var roles = (userCtx && userCtx.roles) || [];
  var user = userCtx && userCtx.name;
  var isAdmin = roles.indexOf('_admin') !== -1;
  var rules = sawa.rules;
  var known = Object.keys(rules).join(', ');
  var ACTIONS = { create: 'created', update: 'updated', delete: 'deleted' };
  // Writing over a tombstone is a create; CouchDB passes the tombstone as oldDoc.
  var old = oldDoc && !oldDoc._deleted ? oldDoc : null;
  var id = String(newDoc._id || '');

  if (id.indexOf('_design/') === 0) {
    if (!isAdmin) deny('only server admins may change design documents');
    return;
  }
  if (newDoc._deleted) return checkDelete();

  var type = newDoc.type;
  if (typeof type !== 'string' || type === '') {
    deny('type is required: every document needs a type (one of ' + known + ')');
  }
  var rule = own(rules, type);
  if (!rule) deny('unknown document type ' + JSON.stringify(type) + '; known types are ' + known);
  if (old && old.type !== type) deny('type cannot change (it is ' + old.type + ')');
  if (rule.databases.indexOf(sawa.kind) === -1) {
    deny(type + ' documents cannot be stored in a ' + sawa.kind + ' database');
  }
  if (old && rule.immutable === 'all') deny(type + ' documents cannot be changed once written');
  if (!isAdmin) checkWriter(rule, type, old ? 'update' : 'create');

  var ownerField = rule.ownerField;
  if (!isAdmin && !old && newDoc[ownerField] !== user) {
    deny(type + '.' + ownerField + ' must be the writing user (' + user + ')');
  }
  if (old) {
    if (!sawa.equal(newDoc[ownerField], old[ownerField])) deny(ownerField + ' cannot change');
    if (!isAdmin) checkOwner(rule, type, old, 'update');
    for (var i = 0; i < rule.immutable.length; i++) {
      var field = rule.immutable[i];
      if (!sawa.equal(pick(newDoc, field), pick(old, field))) deny(field + ' cannot change');
    }
  }

  var validate = sawa.validators[type]();
  if (!validate(newDoc)) deny(sawa.reason(type, validate.errors, rule.messages));
  if (rule.idPattern && !new RegExp(rule.idPattern.pattern, 'u').test(id)) {
    deny(type + '._id must be ' + rule.idPattern.description);
  }

  // Deletes carry no content to check (PouchDB sends only _id, _rev, _deleted): the stored
  // document says whose it is and what type.
  function checkDelete() {
    if (!old || isAdmin) return;
    var gone = own(rules, old.type);
    if (!gone) deny('only server admins may delete documents of unknown type ' + old.type);
    checkWriter(gone, old.type, 'delete');
    checkOwner(gone, old.type, old, 'delete');
  }

  function checkWriter(r, t, action) {
    if (r.writer === 'server') deny(t + ' documents are written by the server only');
    if (!user) deny('writes need a logged-in user');
    var allowed = r.roles[action];
    if (!allowed.length) deny(t + ' documents cannot be ' + ACTIONS[action] + ' by users');
    if (!hasAny(allowed)) {
      deny(
        t +
          ' documents can be ' +
          ACTIONS[action] +
          ' by ' +
          allowed.join(', ') +
          '; you have none of these roles',
      );
    }
  }

  function checkOwner(r, t, doc, action) {
    var owner = doc[r.ownerField];
    if (owner !== user && !hasAny(r.roles.anyOwner || [])) {
      deny('only its owner (' + owner + ') may ' + action + ' this ' + t);
    }
  }

  function hasAny(wanted) {
    for (var w = 0; w < wanted.length; w++) if (roles.indexOf(wanted[w]) !== -1) return true;
    return false;
  }

  // Immutable fields may be nested ("location.lat").
  function pick(doc, path) {
    var parts = path.split('.');
    var value = doc;
    for (var p = 0; p < parts.length && value !== undefined && value !== null; p++) {
      value = typeof value === 'object' ? own(value, parts[p]) : undefined;
    }
    return value;
  }

  function own(obj, key) {
    return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
  }

  function deny(reason) {
    throw { forbidden: reason };
  }
}
