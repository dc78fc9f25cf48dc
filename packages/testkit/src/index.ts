export { type ComponentProcess, startComponent } from './process.ts';
export { registeredServerIds, type Stack, type StackOptions, startStack } from './stack.ts';
export { waitFor } from './wait.ts';
