// The string formats rules may use, as functions ajv calls by name. They behave as ajv-formats'
// "full" formats do (test/rules/formats.test.ts holds them to it) but are self-contained ES5,
// because they are inlined into validate_doc_update and ajv-formats is not.
export default function () {
  var DATE = /^(\d\d\d\d)-(\d\d)-(\d\d)$/;
  var DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  var TIME = /^(\d\d):(\d\d):(\d\d(?:\.\d+)?)(z|([+-])(\d\d)(?::?(\d\d))?)?$/i;
  var EMAIL =
    /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;
  var UUID = /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;

  function date(str) {
    var m = DATE.exec(str);
    if (!m) return false;
    var year = +m[1];
    var month = +m[2];
    var day = +m[3];
    var leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    return month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && leap ? 29 : DAYS[month]);
  }

  // RFC 3339 time; the zone is required. A leap second is allowed only at 23:59:60 UTC.
  function time(str) {
    var m = TIME.exec(str);
    if (!m || !m[4]) return false;
    var hr = +m[1];
    var min = +m[2];
    var sec = +m[3];
    var sign = m[5] === '-' ? -1 : 1;
    var tzH = +(m[6] || 0);
    var tzM = +(m[7] || 0);
    if (tzH > 23 || tzM > 59) return false;
    if (hr <= 23 && min <= 59 && sec < 60) return true;
    var utcMin = min - tzM * sign;
    var utcHr = hr - tzH * sign - (utcMin < 0 ? 1 : 0);
    return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
  }

  function dateTime(str) {
    var parts = str.split(/t|\s/i);
    return parts.length === 2 && date(parts[0]) && time(parts[1]);
  }

  return {
    date: date,
    time: time,
    'date-time': dateTime,
    email: function (str) {
      return EMAIL.test(str);
    },
    uuid: function (str) {
      return UUID.test(str);
    },
  };
}
