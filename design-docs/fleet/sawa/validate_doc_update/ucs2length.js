// String length in Unicode code points, as JSON Schema counts it (a surrogate pair is one
// character). ajv's standalone code needs this helper; it is inlined in place of its require().
export default function (str) {
  var length = 0;
  var pos = 0;
  var value;
  while (pos < str.length) {
    length++;
    value = str.charCodeAt(pos++);
    if (value >= 0xd800 && value <= 0xdbff && pos < str.length) {
      value = str.charCodeAt(pos);
      if ((value & 0xfc00) === 0xdc00) pos++;
    }
  }
  return length;
}
