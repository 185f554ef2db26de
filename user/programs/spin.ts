// Runs forever without yielding: only preemption can take the CPU back.
// The counter lives in linear memory because a store there is an effect no optimizer may drop.
const counter = memory.data(4);

while (true) {
  store<u32>(counter, load<u32>(counter) + 1);
}
