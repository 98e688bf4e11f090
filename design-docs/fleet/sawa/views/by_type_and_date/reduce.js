// Counts per key prefix (group_level); use reduce=false for the rows themselves.
export default '_count';
