// How many conflicted documents, per type with group_level=1.
export default '_count';
