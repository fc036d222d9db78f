/**
 * The fields of the network-policy-api's kinds, as their CRDs' OpenAPI
 * schemas declare them (policy.networking.k8s.io, experimental channel), in
 * the form of kube-fields.ts. The API server prunes what a structural schema
 * does not declare, and warns of it as for a built-in kind.
 */
export const TIER_TYPES: Readonly<Record<string, string>> = {
  ClusterNetworkPolicy: "apiVersion kind metadata:ObjectMeta spec:ClusterNetworkPolicySpec status",
  ClusterNetworkPolicySpec: "egress:[]ClusterNetworkPolicyEgressRule ingress:[]ClusterNetworkPolicyIngressRule priority subject:TierSubject tier",
  ClusterNetworkPolicyIngressRule: "action from:[]TierIngressPeer name protocols:[]ClusterNetworkPolicyProtocol",
  ClusterNetworkPolicyEgressRule: "action name protocols:[]ClusterNetworkPolicyProtocol to:[]TierEgressPeer",
  ClusterNetworkPolicyProtocol: "destinationNamedPort sctp:ClusterNetworkPolicyProtocolPorts tcp:ClusterNetworkPolicyProtocolPorts udp:ClusterNetworkPolicyProtocolPorts",
  ClusterNetworkPolicyProtocolPorts: "destinationPort:ClusterNetworkPolicyPort",
  ClusterNetworkPolicyPort: "number range:ClusterNetworkPolicyPortRange",
  ClusterNetworkPolicyPortRange: "end start",
  AdminNetworkPolicy: "apiVersion kind metadata:ObjectMeta spec:AdminNetworkPolicySpec status",
  AdminNetworkPolicySpec: "egress:[]AdminNetworkPolicyEgressRule ingress:[]AdminNetworkPolicyIngressRule priority subject:TierSubject",
  AdminNetworkPolicyIngressRule: "action from:[]TierIngressPeer name ports:[]AdminNetworkPolicyPort",
  AdminNetworkPolicyEgressRule: "action name ports:[]AdminNetworkPolicyPort to:[]TierEgressPeer",
  AdminNetworkPolicyPort: "namedPort portNumber:AdminNetworkPolicyPortNumber portRange:AdminNetworkPolicyPortRange",
  AdminNetworkPolicyPortNumber: "port protocol",
  AdminNetworkPolicyPortRange: "end protocol start",
  BaselineAdminNetworkPolicy: "apiVersion kind metadata:ObjectMeta spec:BaselineAdminNetworkPolicySpec status",
  BaselineAdminNetworkPolicySpec: "egress:[]BaselineAdminNetworkPolicyEgressRule ingress:[]AdminNetworkPolicyIngressRule subject:TierSubject",
  BaselineAdminNetworkPolicyEgressRule: "action name ports:[]AdminNetworkPolicyPort to:[]BaselineAdminNetworkPolicyEgressPeer",
  BaselineAdminNetworkPolicyEgressPeer: "namespaces:LabelSelector networks nodes:LabelSelector pods:TierNamespacedPod",
  TierSubject: "namespaces:LabelSelector pods:TierNamespacedPod",
  TierNamespacedPod: "namespaceSelector:LabelSelector podSelector:LabelSelector",
  TierIngressPeer: "namespaces:LabelSelector pods:TierNamespacedPod",
  TierEgressPeer: "domainNames namespaces:LabelSelector networks nodes:LabelSelector pods:TierNamespacedPod",
};
