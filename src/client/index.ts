export * from './client';
export * from './errors';
export * from './host';
export * from './raw-get';
export * from './streams';
export * from './transport';
export * from './types';
