/** WASI preview1 error numbers used by the personality (the standard's own values). */
export const Errno = {
  SUCCESS: 0,
  BADF: 8,
  FAULT: 21,
  INVAL: 28,
  IO: 29,
  NOSYS: 52,
  PIPE: 64,
} as const;
