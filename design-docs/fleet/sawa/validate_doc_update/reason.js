// Turns ajv errors into one sentence a person can act on: "farmer.phone must be an E.164
// number…; visit.activity must be one of training, …". It runs inside validate_doc_update (in
// CouchDB and in the gateway alike), so it is plain ES5 with no outside references.
export default function (label, errors, messages) {
  var ARTICLE = { object: 'an object', array: 'an array', integer: 'an integer', null: 'null' };
  var FORMATS = {
    'date-time': 'an ISO 8601 date-time with a time zone, e.g. 2024-05-01T09:30:00+03:00',
    date: 'a date like 2024-05-01',
    time: 'a time with a time zone, e.g. 09:30:00+03:00',
    email: 'an email address',
    uuid: 'a UUID',
  };
  var LIMITS = {
    minimum: 'at least ',
    maximum: 'at most ',
    exclusiveMinimum: 'greater than ',
    exclusiveMaximum: 'less than ',
  };
  var list = errors || [];
  var branches = [];
  var seen = {};
  var out = [];
  var i;
  // anyOf/oneOf report each failed branch too; the combined error says it better.
  for (i = 0; i < list.length; i++) {
    if (list[i].keyword === 'anyOf' || list[i].keyword === 'oneOf') {
      branches.push(list[i].schemaPath + '/');
    }
  }
  for (i = 0; i < list.length && out.length < 10; i++) {
    if (insideBranch(list[i].schemaPath) || list[i].keyword === 'if') continue;
    var text = describe(list[i]);
    if (!seen[text]) {
      seen[text] = true;
      out.push(text);
    }
  }
  return out.length ? out.join('; ') : label + ' is invalid';

  function insideBranch(schemaPath) {
    for (var b = 0; b < branches.length; b++) {
      if (schemaPath.indexOf(branches[b]) === 0) return true;
    }
    return false;
  }

  function describe(e) {
    var p = e.params || {};
    var field = fieldPath(e.instancePath || '');
    if (e.keyword === 'required') return name(join(field, p.missingProperty)) + ' is required';
    if (e.keyword === 'dependentRequired') {
      return name(join(field, p.missingProperty)) + ' is required when ' + p.property + ' is set';
    }
    if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') {
      var extra = p.additionalProperty !== undefined ? p.additionalProperty : p.unevaluatedProperty;
      return name(join(field, extra)) + ' is not an allowed field';
    }
    var custom = own(messages, field.replace(/\[\d+\]/g, ''));
    return name(field) + ' ' + (custom || generic(e.keyword, p, e.message));
  }

  function generic(keyword, p, fallback) {
    if (keyword === 'type') return 'must be ' + typeNames(p.type);
    if (keyword === 'enum') return 'must be one of ' + p.allowedValues.join(', ');
    if (keyword === 'const') return 'must be ' + JSON.stringify(p.allowedValue);
    if (keyword === 'minLength' && p.limit === 1) return 'must not be empty';
    if (keyword === 'minLength') return 'must be at least ' + count(p.limit, 'character');
    if (keyword === 'maxLength') return 'must be at most ' + count(p.limit, 'character');
    if (own(LIMITS, keyword)) return 'must be ' + LIMITS[keyword] + p.limit;
    if (keyword === 'multipleOf') return 'must be a multiple of ' + p.multipleOf;
    if (keyword === 'pattern') return 'must match the pattern ' + p.pattern;
    if (keyword === 'format') return 'must be ' + (own(FORMATS, p.format) || 'a valid ' + p.format);
    if (keyword === 'minItems') return 'must have at least ' + count(p.limit, 'item');
    if (keyword === 'maxItems') return 'must have at most ' + count(p.limit, 'item');
    if (keyword === 'uniqueItems') return 'must not repeat items (' + p.j + ' and ' + p.i + ')';
    if (keyword === 'minProperties') return 'must have at least ' + count(p.limit, 'field');
    if (keyword === 'maxProperties') return 'must have at most ' + count(p.limit, 'field');
    if (keyword === 'anyOf' || keyword === 'oneOf') return 'does not match any allowed form';
    return fallback || 'is invalid (' + keyword + ')';
  }

  function typeNames(type) {
    var names = String(type).split(',');
    for (var t = 0; t < names.length; t++) {
      names[t] =
        own(ARTICLE, names[t]) || (names[t] === 'boolean' ? 'true or false' : 'a ' + names[t]);
    }
    return names.join(' or ');
  }

  function count(n, noun) {
    return n + ' ' + noun + (n === 1 ? '' : 's');
  }

  // JSON pointer "/location/lat" -> "location.lat", "/items/0" -> "items[0]".
  function fieldPath(pointer) {
    if (!pointer) return '';
    var parts = pointer.split('/').slice(1);
    var path = '';
    for (var k = 0; k < parts.length; k++) {
      var part = parts[k].replace(/~1/g, '/').replace(/~0/g, '~');
      path = /^\d+$/.test(part) ? path + '[' + part + ']' : join(path, part);
    }
    return path;
  }

  function join(path, key) {
    return path ? path + '.' + key : String(key);
  }

  // Only the object's own entries: a field called "constructor" must not find Object's.
  function own(obj, key) {
    return obj && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
  }

  function name(field) {
    return field ? label + '.' + field : label;
  }
}
