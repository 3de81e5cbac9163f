'use strict';
// The error check the WebNN and ONNX tests share: the call throws an
// ArgumentError whose message starts with the op's name and holds each of
// `words` (the argument, its value, the rule it broke).

function expectArgumentError(lib, call, name, words) {
  let error;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(lib.ArgumentError);
  expect(error.message.startsWith(`${name}: `)).toBe(true);
  for (const word of words) expect(error.message).toContain(word);
}

module.exports = { expectArgumentError };
