// The built embedded process as a child process: shared with the console's browser tests (libs/testing).
export { freePort, post, ROOT, start, type Running } from '@el/testing';
