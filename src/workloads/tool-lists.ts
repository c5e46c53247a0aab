/**
 * The fixed lists of the tools the built-in workloads run, so a typo is refused at the
 * command line instead of making the unit fail and restart forever in the guest. Only
 * methods every supported stress-ng build has (no architecture- or compiler-dependent ones
 * such as float80, int128 or decimal32); test/guest/artifacts checks them against the real
 * `stress-ng --cpu-method which` / `--vm-method which` and `fio --enghelp`.
 */
export const STRESS_CPU_METHODS = [
  ...["all", "ackermann", "apery", "bitops", "callfunc", "cdouble", "cfloat", "clongdouble", "collatz"],
  ...["correlate", "crc16", "dither", "div8", "div16", "div32", "div64", "double", "euler", "explog"],
  ...["factorial", "fibonacci", "fft", "fletcher16", "float", "float32", "float64", "gamma", "gcd"],
  ...["gray", "hamming", "hanoi", "hyperbolic", "idct", "int8", "int16", "int32", "int64"],
  ...["intconversion", "ipv4checksum", "jmp", "lfsr32", "ln2", "logmap", "longdouble", "loop"],
  ...["matrixprod", "nsqrt", "omega", "parity", "phi", "pi", "prime", "psi", "queens", "rand", "rgb"],
  ...["sieve", "stats", "sqrt", "trig", "union", "zeta"],
] as const;

export const STRESS_VM_METHODS = [
  ...["all", "cache-lines", "cache-stripe", "checkerboard", "flip", "fwdrev", "galpat-0", "galpat-1"],
  ...["gray", "grayflip", "rowhammer", "incdec", "inc-nybble", "lfsr32", "rand-set", "rand-sum"],
  ...["read64", "ror", "swap", "move-inv", "modulo-x", "mscan", "prime-0", "prime-1", "prime-gray-0"],
  ...["prime-gray-1", "prime-incdec", "walk-0d", "walk-1d", "walk-0a", "walk-1a", "write64", "zero-one"],
] as const;

/** fio engines that work on a file in a mounted xfs with direct=1, on every supported guest. */
export const FIO_IOENGINES = ["libaio", "io_uring", "psync", "pvsync2", "posixaio", "sync"] as const;
