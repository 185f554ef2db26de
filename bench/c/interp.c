// An interpreter as small languages are built: a stack-based bytecode VM with a switch dispatch,
// frames in structs, running a program that counts primes and sums a recursive Fibonacci.
#include <stdint.h>
#include <stdio.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, LT, JZ, JMP, CALL, RET, HALT, DUP, POP };
typedef struct { int32_t locals[8]; int return_to; int stack_base; } Frame;
typedef struct { int32_t stack[1024]; Frame frames[256]; int sp, fp; } Vm;

static int32_t run(Vm *vm, const int32_t *code, int pc) {
  for (;;) {
    int32_t op = code[pc++];
    Frame *f = &vm->frames[vm->fp];
    switch (op) {
      case PUSH: vm->stack[vm->sp++] = code[pc++]; break;
      case LOAD: vm->stack[vm->sp++] = f->locals[code[pc++]]; break;
      case STORE: f->locals[code[pc++]] = vm->stack[--vm->sp]; break;
      case ADD: vm->sp--; vm->stack[vm->sp - 1] += vm->stack[vm->sp]; break;
      case SUB: vm->sp--; vm->stack[vm->sp - 1] -= vm->stack[vm->sp]; break;
      case MUL: vm->sp--; vm->stack[vm->sp - 1] *= vm->stack[vm->sp]; break;
      case MOD: vm->sp--; vm->stack[vm->sp - 1] %= vm->stack[vm->sp]; break;
      case LT: vm->sp--; vm->stack[vm->sp - 1] = vm->stack[vm->sp - 1] < vm->stack[vm->sp]; break;
      case JZ: { int32_t target = code[pc++]; if (!vm->stack[--vm->sp]) pc = target; break; }
      case JMP: pc = code[pc]; break;
      case DUP: vm->stack[vm->sp] = vm->stack[vm->sp - 1]; vm->sp++; break;
      case POP: vm->sp--; break;
      case CALL: {
        int32_t target = code[pc++], args = code[pc++];
        Frame *g = &vm->frames[++vm->fp];
        for (int i = args - 1; i >= 0; i--) g->locals[i] = vm->stack[--vm->sp];
        g->return_to = pc;
        g->stack_base = vm->sp;
        pc = target;
        break;
      }
      case RET: { int32_t value = vm->stack[--vm->sp]; vm->sp = f->stack_base; pc = f->return_to; vm->fp--; vm->stack[vm->sp++] = value; break; }
      case HALT: return vm->stack[--vm->sp];
    }
  }
}

static int32_t code[512];
static int here;
static void emit(int32_t word) { code[here++] = word; }
static void emit2(int32_t op, int32_t arg) { emit(op); emit(arg); }
/** A forward jump whose target is patched with `land`. */
static int jump(int32_t op) { emit(op); emit(-1); return here - 1; }
static void land(int at) { code[at] = here; }

int main(void) {
  // fib(n): if n < 2 return n; return fib(n-1) + fib(n-2)
  int fib = here;
  emit2(LOAD, 0); emit2(PUSH, 2); emit(LT);
  int big = jump(JZ);
  emit2(LOAD, 0); emit(RET);
  land(big);
  emit2(LOAD, 0); emit2(PUSH, 1); emit(SUB); emit2(CALL, fib); emit(1);
  emit2(LOAD, 0); emit2(PUSH, 2); emit(SUB); emit2(CALL, fib); emit(1);
  emit(ADD); emit(RET);
  // primes(limit): locals 0 limit, 1 n, 2 d, 3 count, 4 prime
  int primes = here;
  emit2(PUSH, 2); emit2(STORE, 1); emit2(PUSH, 0); emit2(STORE, 3);
  int outer = here;
  emit2(LOAD, 1); emit2(LOAD, 0); emit(LT);
  int done = jump(JZ);
  emit2(PUSH, 1); emit2(STORE, 4); emit2(PUSH, 2); emit2(STORE, 2);
  int inner = here;
  emit2(LOAD, 2); emit2(LOAD, 2); emit(MUL); emit2(LOAD, 1); emit2(PUSH, 1); emit(ADD); emit(LT);
  int tested = jump(JZ);
  emit2(LOAD, 1); emit2(LOAD, 2); emit(MOD);
  int divides = jump(JZ);
  emit2(LOAD, 2); emit2(PUSH, 1); emit(ADD); emit2(STORE, 2); emit2(JMP, inner);
  land(divides);
  emit2(PUSH, 0); emit2(STORE, 4);
  land(tested);
  emit2(LOAD, 3); emit2(LOAD, 4); emit(ADD); emit2(STORE, 3);
  emit2(LOAD, 1); emit2(PUSH, 1); emit(ADD); emit2(STORE, 1); emit2(JMP, outer);
  land(done);
  emit2(LOAD, 3); emit(RET);
  int start = here;
  emit2(PUSH, 27); emit2(CALL, fib); emit(1);
  emit2(PUSH, 300000); emit2(CALL, primes); emit(1);
  emit(ADD); emit(HALT);
  static Vm vm;
  printf("interp %d\n", run(&vm, code, start));
  return 0;
}
