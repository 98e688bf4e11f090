export default '_count';
