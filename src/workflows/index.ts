export { fineTune } from './fineTune';
export { scheduledFineTune } from './scheduledFineTune';
export { janitor } from './janitor';
export { jobEventRelay } from './jobEventRelay';
export { planFineTune } from './planFineTune';
export { webhookRegistry } from './webhookRegistry';
export { webhookNotification } from './webhookNotification';
