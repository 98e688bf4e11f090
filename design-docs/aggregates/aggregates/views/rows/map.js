/* global emit */
// The buckets the report routes read, by report and day: a date range is one key range, and
// the route keeps the scopes the viewer may see and sums over the dimensions not asked for.
export default function (doc) {
  if (doc.kind === 'bucket') {
    emit([doc.report, doc.day], {
      scope: doc.scope,
      dims: doc.dims,
      count: doc.count,
      amount: doc.amount,
    });
  }
}
