// End-to-end harness of the web UI: its own RBAC and the sessions ConfigMap from manifests/webui, applied to a test
// control plane as a cluster gets them. Defined with the other components' in scripts/deploy.ts (the sandbox uses
// them too); end-to-end suites import them from here, beside the webhook's and the controller's harness.
export { installWebUiRbac, webUiOwnObjects } from '../../scripts/deploy.ts';
