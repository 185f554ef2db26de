// The console UART's registers (docs/DEVICES.md "Console UART"); the header and the register page
// itself are common/device-registers.ts.

export const STATUS: i32 = 8;
export const CONTROL: i32 = 9;
export const RX_COUNT: i32 = 10;
export const TX_STREAM: i32 = 12;
export const DMA_OFFSET: i32 = 13;
export const DMA_LENGTH: i32 = 14;
export const COMMAND: i32 = 15;
export const RESULT: i32 = 16;

// STATUS bits.
export const STATUS_END_OF_INPUT: u32 = 4;
// CONTROL bits.
export const CONTROL_RECEIVE: u32 = 1;
// COMMAND values.
export const COMMAND_TRANSMIT: u32 = 1;
export const COMMAND_RECEIVE: u32 = 2;
// TX_STREAM values.
export const STREAM_OUTPUT: u32 = 1;
export const STREAM_ERRORS: u32 = 2;

/** The interrupt cause: bytes arrived, or the input ended. */
export const IRQ_RX: u32 = 1;
