export * from './verify';
export * from './client';
