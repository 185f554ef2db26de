import { Status } from "../errors.ts";
import { Capability } from "./capability.ts";
import { type MessageBuffer, readMessage } from "../message.ts";
import type { Process } from "../process.ts";
import { type Cappage, invokeCappage } from "./cappage.ts";
import { receiverInfoWords, setReceiverContract } from "./contract-ops.ts";
import { type DeviceObject, invokeDevice } from "./device-object.ts";
import { type ImageObject, invokeImage } from "./image-object.ts";
import { type ImageBuilder, invokeImageBuilder } from "./image-builder.ts";
import { type KernelPolicy, invokeKernelPolicy } from "./kernel-policy.ts";
import { type InterruptObject, invokeInterrupt } from "./interrupt.ts";
import { type Invocation, answer, movesOnly, word } from "./invocation.ts";
import { type MemoryObject, invokeMemory } from "./memory-object.ts";
import { KERNEL_LABEL_BASE, KernelMessage, ObjectKind, Op, Rights } from "./object-abi.ts";
import type { ObjectKernel } from "./object-kernel.ts";
import { type PageObject, invokePage } from "./page.ts";
import { type PagerRequest, invokePagerRequest } from "./pager-request.ts";
import { invokeProcess } from "./process-control.ts";
import type { Receiver } from "./receiver.ts";
import { type RegionObject, invokeRegion } from "./region.ts";
import type { Reply } from "./reply.ts";

/**
 * The one system call: reads the message, finds the capability, and hands the invocation to the
 * object's handler. Labels from KERNEL_LABEL_BASE are operations; any other label on a Receiver
 * is a message and on a Reply the reply.
 */
export function invoke(k: ObjectKernel, caller: Process, capIndex: number, buffer: MessageBuffer): number | Promise<number> {
  const message = readMessage(caller, buffer);
  if (typeof message === "number") return message;
  const cap = caller.caps.get(capIndex);
  if (!cap) return Status.E_INVALID_CAP;
  const inv: Invocation = { caller, cap, capIndex, message, buffer };
  const object = cap.object;
  const label = message.label;

  if (label === Op.CAP_DROP) {
    caller.caps.take(capIndex)!.dispose();
    return Status.OK;
  }
  if (object.destroyed && object.kind !== ObjectKind.PROCESS) return Status.E_PEER_DEAD;
  if (label === Op.CAP_INFO) return answer(inv, [object.kind, cap.rights]);
  if (label === Op.CAP_COPY) {
    if (movesOnly(cap)) return Status.E_INVALID_ARGUMENT;
    return answer(inv, [], [cap.derive(message.words.length > 0 ? word(inv, 0) : 0xffff_ffff)]);
  }

  if (label < KERNEL_LABEL_BASE) {
    if (object.kind === ObjectKind.REPLY) return k.ipc.reply(inv, object as Reply);
    if (object.kind !== ObjectKind.RECEIVER) return Status.E_WRONG_TYPE;
    if (cap.has(Rights.RECEIVER_CALL)) return k.ipc.call(inv, object as Receiver);
    if (cap.has(Rights.RECEIVER_SEND)) return k.ipc.send(inv, object as Receiver);
    return Status.E_MISSING_RIGHT;
  }

  const owner = OP_KINDS.get(label >>> 8);
  if (owner !== undefined && owner !== object.kind) return Status.E_WRONG_TYPE;
  switch (object.kind) {
    case ObjectKind.MEMORY:
      return invokeMemory(k, inv, object as MemoryObject);
    case ObjectKind.PROCESS:
      return invokeProcess(k, inv, object as Process);
    case ObjectKind.RECEIVER:
      return invokeReceiver(k, inv, object as Receiver);
    case ObjectKind.PAGE:
      return invokePage(k, inv, object as PageObject);
    case ObjectKind.CAPPAGE:
      return invokeCappage(inv, object as Cappage);
    case ObjectKind.REGION:
      return invokeRegion(k, inv, object as RegionObject);
    case ObjectKind.INTERRUPT: {
      const status = invokeInterrupt(inv, object as InterruptObject);
      if (status === Status.OK && label === Op.INTERRUPT_ACK) deliverPendingInterrupt(k, object as InterruptObject);
      return status;
    }
    case ObjectKind.DEVICE:
      return invokeDevice(inv, object as DeviceObject);
    case ObjectKind.KERNEL:
      return invokeKernelPolicy(inv, object as KernelPolicy);
    case ObjectKind.PAGER_REQUEST:
      return invokePagerRequest(k.services, inv, object as PagerRequest);
    case ObjectKind.IMAGE:
      return invokeImage(inv, object as ImageObject);
    case ObjectKind.IMAGE_BUILDER:
      return invokeImageBuilder(k, inv, object as ImageBuilder);
    case ObjectKind.REPLY:
      return label === Op.REPLY_AT ? k.ipc.replyAt(inv, object as Reply) : Status.E_INVALID_ARGUMENT;
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}

/** Which kind each block of operation labels belongs to (`label >>> 8`, see object-abi.ts). */
const OP_KINDS = new Map<number, number>([
  [0xffff01, ObjectKind.MEMORY],
  [0xffff02, ObjectKind.PROCESS],
  [0xffff03, ObjectKind.RECEIVER],
  [0xffff04, ObjectKind.PAGE],
  [0xffff05, ObjectKind.CAPPAGE],
  [0xffff06, ObjectKind.REGION],
  [0xffff07, ObjectKind.INTERRUPT],
  [0xffff08, ObjectKind.IMAGE],
  [0xffff09, ObjectKind.DEVICE],
  [0xffff0a, ObjectKind.KERNEL],
  [0xffff0b, ObjectKind.REPLY],
  [0xffff0c, ObjectKind.PAGER_REQUEST],
  [0xffff0d, ObjectKind.IMAGE_BUILDER],
]);

function invokeReceiver(k: ObjectKernel, inv: Invocation, receiver: Receiver): number | Promise<number> {
  switch (inv.message.label) {
    case Op.RECEIVER_RECEIVE:
      if (!inv.cap.has(Rights.RECEIVER_RECEIVE)) return Status.E_MISSING_RIGHT;
      return k.ipc.receive(inv, receiver);
    case Op.RECEIVER_MINT: {
      if (!inv.cap.has(Rights.RECEIVER_MINT)) return Status.E_MISSING_RIGHT;
      const rights = word(inv, 1);
      if (rights !== Rights.RECEIVER_SEND && rights !== Rights.RECEIVER_CALL) return Status.E_INVALID_ARGUMENT;
      return answer(inv, [], [new Capability(receiver, rights, word(inv, 0))]);
    }
    case Op.RECEIVER_INFO:
      return answer(inv, receiverInfoWords(receiver));
    case Op.RECEIVER_SET_CONTRACT:
      if (!inv.cap.has(Rights.RECEIVER_MINT)) return Status.E_MISSING_RIGHT;
      return setReceiverContract(inv, receiver);
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}

/** Interrupts counted while the line was disarmed go out as soon as the handler re-arms it. */
export function deliverPendingInterrupt(k: ObjectKernel, interrupt: InterruptObject): void {
  if (!interrupt.armed || !interrupt.target || interrupt.count === 0) return;
  if (k.ipc.kernelSend(interrupt.target, KernelMessage.INTERRUPT, [interrupt.line, interrupt.count])) {
    interrupt.armed = false;
    interrupt.count = 0;
  }
}
