// [count, amount] summed element-wise.
export default '_sum';
