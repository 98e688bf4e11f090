/* global emit */
// One row per document for aggregation, keyed [type, day, …dimensions] so group_level rolls up
// by day and then by the dimensions. The day is the date as the phone wrote it (local time in
// the timestamp's own offset), which is the day the agent would name.
export default function (doc) {
  function day(value) {
    return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)
      ? value.slice(0, 10)
      : null;
  }
  if (doc.type === 'visit') {
    // Visits carry no district; the value links the farmer, so include_docs=true with
    // reduce=false returns the farmer (and its district) beside each visit.
    emit(['visit', day(doc.visited_at), doc.activity], { _id: doc.farmer_id });
  } else if (doc.type === 'farmer') {
    emit(['farmer', day(doc.created_at), doc.district, doc.village], null);
  } else if (doc.type === 'payment_request') {
    emit(['payment_request', day(doc.created_at), doc.provider], doc.amount);
  } else if (doc.type === 'payment_status') {
    emit(['payment_status', day(doc.updated_at), doc.provider, doc.status], null);
  } else if (doc.type === 'sms_request') {
    emit(['sms_request', day(doc.created_at)], null);
  } else if (doc.type === 'sms_status') {
    emit(['sms_status', day(doc.updated_at), doc.provider, doc.status], null);
  } else if (typeof doc.type === 'string') {
    // A type added by a deployment still counts per day until it gets its own dimensions.
    emit([doc.type, day(doc.created_at)], null);
  }
}
