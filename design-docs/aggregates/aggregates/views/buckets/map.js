/* global emit */
// Each contribution's share of each bucket it counts in, keyed by the bucket's full key
// [report, scope, day, …dimensions]; with `_sum` and group=true a bucket's value is the sum
// of its contributions, so the aggregator recomputes a bucket instead of adding a delta.
export default function (doc) {
  if (doc.kind === 'contribution' && doc.buckets) {
    for (var i = 0; i < doc.buckets.length; i++) {
      emit(doc.buckets[i].key, doc.buckets[i].value);
    }
  }
}
