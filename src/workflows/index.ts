export { fineTune } from './fineTune';
export { scheduledFineTune } from './scheduledFineTune';
export { janitor } from './janitor';
export { jobEventRelay } from './jobEventRelay';
