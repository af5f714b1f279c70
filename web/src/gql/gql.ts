/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) { accessToken refreshToken expiresAt user { id username role } }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Refresh($token: String!) {\n    refreshToken(refreshToken: $token) { accessToken refreshToken expiresAt user { id username role } }\n  }\n": typeof types.RefreshDocument,
    "\n  mutation Logout($token: String) { logout(refreshToken: $token) }\n": typeof types.LogoutDocument,
    "\n  query Me {\n    me {\n      id username email role status createdAt lastLoginAt\n      lastLocation { city country }\n      devices { id fingerprint status firstSeenAt lastSeenAt }\n      loginLogs(first: 10) { id success failureReason ipAddress createdAt location { city country } }\n    }\n  }\n": typeof types.MeDocument,
    "\n  query AdminUsers($first: Int, $after: String) {\n    users(first: $first, after: $after) {\n      totalCount pageInfo { hasNextPage endCursor }\n      edges { node { id username email role status lastLoginAt } }\n    }\n  }\n": typeof types.AdminUsersDocument,
    "mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id username role } }": typeof types.CreateUserDocument,
    "mutation SetRole($id: ID!, $role: Role!) { updateUserRole(id: $id, role: $role) { id role } }": typeof types.SetRoleDocument,
    "\n  query Audit($filter: AuditLogFilter, $first: Int, $after: String) {\n    auditLogs(filter: $filter, first: $first, after: $after) {\n      totalCount pageInfo { hasNextPage endCursor }\n      edges { node { id action targetType targetId details ipAddress createdAt actor { username } } }\n    }\n  }\n": typeof types.AuditDocument,
    "\n  query Sources {\n    dataSources { id name kind description config status lastSeenAt }\n    dataQuality {\n      completeness { total missingDevice missingIp missingLocation missingMerchant score }\n      freshness { sourceName newestAt ageSeconds }\n      anomalies { day count mean zScore direction }\n    }\n  }\n": typeof types.SourcesDocument,
    "\n  query Models {\n    models(first: 20) { edges { node {\n      id version algorithm active activatedAt createdAt\n      metrics { heldOut { rows fraud legitimate } train { rows } precision recall auc threshold truePositives falsePositives trueNegatives falseNegatives }\n    } } }\n  }\n": typeof types.ModelsDocument,
    "mutation TrainModel { trainModel { id version } }": typeof types.TrainModelDocument,
    "mutation ActivateModel($id: ID!) { activateModel(id: $id) { id active } }": typeof types.ActivateModelDocument,
    "mutation DeactivateModel($id: ID!) { deactivateModel(id: $id) { id active } }": typeof types.DeactivateModelDocument,
    "\n  fragment AlertRow on Alert {\n    id level status title message createdAt\n    event { id status }\n    user { id username }\n    transaction { id amount currency }\n  }\n": typeof types.AlertRowFragmentDoc,
    "\n  query AlertsSince($filter: AlertFilter, $first: Int, $after: String) {\n    alerts(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...AlertRow } }\n    }\n  }\n": typeof types.AlertsSinceDocument,
    "\n  subscription AlertRaised($minLevel: RiskLevel) { alertRaised(minLevel: $minLevel) { ...AlertRow } }\n": typeof types.AlertRaisedDocument,
    "\n  mutation HandleAlert($id: ID!, $input: HandleAlertInput!) { handleAlert(id: $id, input: $input) { ...AlertRow } }\n": typeof types.HandleAlertDocument,
    "\n  query Case($id: ID!) {\n    riskEvent(id: $id) {\n      id title description type level status riskScore version createdAt updatedAt\n      assignee { id username }\n      user {\n        id username status role\n        riskProfile { score level reasons { factor points detail } }\n      }\n      transaction {\n        id amount currency merchantId channel ipAddress occurredAt status deviceFingerprint\n        device { id fingerprint status }\n        location { city country }\n        detection { ...DetectionView }\n      }\n      alerts { id level status title createdAt }\n      timeline { id kind action note fromStatus toStatus createdAt actor { username } }\n      suggestions { action reason priority }\n    }\n  }\n": typeof types.CaseDocument,
    "\n  mutation HandleEvent($id: ID!, $input: HandleRiskEventInput!) {\n    handleRiskEvent(id: $id, input: $input) { id status version assignee { id username } }\n  }\n": typeof types.HandleEventDocument,
    "\n  query Cases($filter: RiskEventFilter, $first: Int, $after: String, $from: Time!, $to: Time!) {\n    riskEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id title type level status riskScore createdAt version user { id username } assignee { id username } } }\n    }\n    riskEventStats(from: $from, to: $to) { total byStatus { key count } }\n  }\n": typeof types.CasesDocument,
    "\n  mutation AssignToMe($id: ID!, $input: HandleRiskEventInput!) { handleRiskEvent(id: $id, input: $input) { id version assignee { id username } } }\n": typeof types.AssignToMeDocument,
    "\n  query Customer($id: ID!, $first: Int, $after: String) {\n    user(id: $id) {\n      id username email role status createdAt lastLoginAt\n      lastLocation { city country }\n      riskProfile { score level reasons { factor points detail } }\n      devices { id fingerprint status firstSeenAt lastSeenAt }\n      loginLogs(first: 20) { id success failureReason ipAddress userAgent createdAt location { city country } }\n      transactions(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { id amount currency merchantId occurredAt status detection { riskScore riskLevel decision } } }\n      }\n    }\n  }\n": typeof types.CustomerDocument,
    "\n  mutation SetUserStatus($id: ID!, $status: UserStatus!, $reason: String) { updateUserStatus(id: $id, status: $status, reason: $reason) { id status } }\n": typeof types.SetUserStatusDocument,
    "\n  mutation SetDeviceStatus($id: ID!, $status: DeviceStatus!, $reason: String) { setDeviceStatus(id: $id, status: $status, reason: $reason) { id status } }\n": typeof types.SetDeviceStatusDocument,
    "\n  query Users($filter: UserFilter, $first: Int, $after: String) {\n    users(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id username email role status createdAt lastLoginAt } }\n    }\n  }\n": typeof types.UsersDocument,
    "\n  query Dashboard($from: Time!, $to: Time!, $bucket: TrendBucket) {\n    riskEventStats(from: $from, to: $to) {\n      total open handled meanTimeToHandle\n      byLevel { key count } byStatus { key count } byType { key count }\n    }\n    riskTrend(from: $from, to: $to, bucket: $bucket) { bucketStart transactions low medium high events alerts reject review }\n    systemStatus {\n      version uptimeSeconds activeSubscriptions migrationVersion rulesLoaded transactionsLastMinute\n      database { reachable latencyMs openConnections inUse idle maxOpen waitCount }\n      scoringLatency { samples p50 p95 p99 }\n      engineLatency { samples p50 p95 p99 }\n    }\n  }\n": typeof types.DashboardDocument,
    "\n  query Related($id: ID!, $depth: Int) {\n    user(id: $id) {\n      id username\n      relatedUsers(depth: $depth) {\n        depth\n        user { id username status }\n        evidence { kind value fromUser { id } toUser { id } }\n      }\n    }\n  }\n": typeof types.RelatedDocument,
    "\n  query RuleDetail($id: ID!) {\n    rule(id: $id) {\n      id name description condition score priority type action enabled shadow version\n      versions { version name description condition expression score priority type action enabled shadow createdAt }\n    }\n  }\n": typeof types.RuleDetailDocument,
    "\n  query LatestFeatures { transactions(first: 1) { edges { node { detection { features } } } } }\n": typeof types.LatestFeaturesDocument,
    "\n  mutation UpsertRule($input: RuleInput!) { upsertRule(input: $input) { id name version enabled shadow expression } }\n": typeof types.UpsertRuleDocument,
    "\n  query Backtest($input: BacktestInput!) {\n    backtestRule(input: $input) {\n      expression evaluated hits hitRate labelledFraud labelledLegitimate fraudCaught legitimateHit\n      precision recall addedFlagged addedFlaggedVolume truncated\n    }\n  }\n": typeof types.BacktestDocument,
    "\n  query Rules { rules { id name description expression score priority type action enabled shadow version builtin hitCount lastHitAt } }\n": typeof types.RulesDocument,
    "\n  mutation SetRuleEnabled($id: ID!, $enabled: Boolean!) { setRuleEnabled(id: $id, enabled: $enabled) { id enabled version } }\n": typeof types.SetRuleEnabledDocument,
    "\n  fragment DetectionView on Detection {\n    riskScore riskLevel decision ruleScore mlScore modelVersion reason features latencyMicros\n    matchedRules { ruleId name version score type action reason }\n    shadowRules { ruleId name version score reason }\n    modelContributions { feature value contribution }\n  }\n": typeof types.DetectionViewFragmentDoc,
    "\n  query Transaction($id: ID!) {\n    transaction(id: $id) {\n      id amount currency merchantId merchantCategory channel ipAddress status occurredAt createdAt deviceFingerprint\n      user { id username }\n      device { id fingerprint status }\n      location { latitude longitude city country }\n      detection { ...DetectionView }\n      riskEvent { id status title }\n    }\n  }\n": typeof types.TransactionDocument,
    "\n  query Transactions($filter: TransactionFilter, $first: Int, $after: String) {\n    transactions(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node {\n        id amount currency merchantId channel status occurredAt userId\n        user { id username }\n        detection { riskScore riskLevel decision }\n      } }\n    }\n  }\n": typeof types.TransactionsDocument,
};
const documents: Documents = {
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) { accessToken refreshToken expiresAt user { id username role } }\n  }\n": types.LoginDocument,
    "\n  mutation Refresh($token: String!) {\n    refreshToken(refreshToken: $token) { accessToken refreshToken expiresAt user { id username role } }\n  }\n": types.RefreshDocument,
    "\n  mutation Logout($token: String) { logout(refreshToken: $token) }\n": types.LogoutDocument,
    "\n  query Me {\n    me {\n      id username email role status createdAt lastLoginAt\n      lastLocation { city country }\n      devices { id fingerprint status firstSeenAt lastSeenAt }\n      loginLogs(first: 10) { id success failureReason ipAddress createdAt location { city country } }\n    }\n  }\n": types.MeDocument,
    "\n  query AdminUsers($first: Int, $after: String) {\n    users(first: $first, after: $after) {\n      totalCount pageInfo { hasNextPage endCursor }\n      edges { node { id username email role status lastLoginAt } }\n    }\n  }\n": types.AdminUsersDocument,
    "mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id username role } }": types.CreateUserDocument,
    "mutation SetRole($id: ID!, $role: Role!) { updateUserRole(id: $id, role: $role) { id role } }": types.SetRoleDocument,
    "\n  query Audit($filter: AuditLogFilter, $first: Int, $after: String) {\n    auditLogs(filter: $filter, first: $first, after: $after) {\n      totalCount pageInfo { hasNextPage endCursor }\n      edges { node { id action targetType targetId details ipAddress createdAt actor { username } } }\n    }\n  }\n": types.AuditDocument,
    "\n  query Sources {\n    dataSources { id name kind description config status lastSeenAt }\n    dataQuality {\n      completeness { total missingDevice missingIp missingLocation missingMerchant score }\n      freshness { sourceName newestAt ageSeconds }\n      anomalies { day count mean zScore direction }\n    }\n  }\n": types.SourcesDocument,
    "\n  query Models {\n    models(first: 20) { edges { node {\n      id version algorithm active activatedAt createdAt\n      metrics { heldOut { rows fraud legitimate } train { rows } precision recall auc threshold truePositives falsePositives trueNegatives falseNegatives }\n    } } }\n  }\n": types.ModelsDocument,
    "mutation TrainModel { trainModel { id version } }": types.TrainModelDocument,
    "mutation ActivateModel($id: ID!) { activateModel(id: $id) { id active } }": types.ActivateModelDocument,
    "mutation DeactivateModel($id: ID!) { deactivateModel(id: $id) { id active } }": types.DeactivateModelDocument,
    "\n  fragment AlertRow on Alert {\n    id level status title message createdAt\n    event { id status }\n    user { id username }\n    transaction { id amount currency }\n  }\n": types.AlertRowFragmentDoc,
    "\n  query AlertsSince($filter: AlertFilter, $first: Int, $after: String) {\n    alerts(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...AlertRow } }\n    }\n  }\n": types.AlertsSinceDocument,
    "\n  subscription AlertRaised($minLevel: RiskLevel) { alertRaised(minLevel: $minLevel) { ...AlertRow } }\n": types.AlertRaisedDocument,
    "\n  mutation HandleAlert($id: ID!, $input: HandleAlertInput!) { handleAlert(id: $id, input: $input) { ...AlertRow } }\n": types.HandleAlertDocument,
    "\n  query Case($id: ID!) {\n    riskEvent(id: $id) {\n      id title description type level status riskScore version createdAt updatedAt\n      assignee { id username }\n      user {\n        id username status role\n        riskProfile { score level reasons { factor points detail } }\n      }\n      transaction {\n        id amount currency merchantId channel ipAddress occurredAt status deviceFingerprint\n        device { id fingerprint status }\n        location { city country }\n        detection { ...DetectionView }\n      }\n      alerts { id level status title createdAt }\n      timeline { id kind action note fromStatus toStatus createdAt actor { username } }\n      suggestions { action reason priority }\n    }\n  }\n": types.CaseDocument,
    "\n  mutation HandleEvent($id: ID!, $input: HandleRiskEventInput!) {\n    handleRiskEvent(id: $id, input: $input) { id status version assignee { id username } }\n  }\n": types.HandleEventDocument,
    "\n  query Cases($filter: RiskEventFilter, $first: Int, $after: String, $from: Time!, $to: Time!) {\n    riskEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id title type level status riskScore createdAt version user { id username } assignee { id username } } }\n    }\n    riskEventStats(from: $from, to: $to) { total byStatus { key count } }\n  }\n": types.CasesDocument,
    "\n  mutation AssignToMe($id: ID!, $input: HandleRiskEventInput!) { handleRiskEvent(id: $id, input: $input) { id version assignee { id username } } }\n": types.AssignToMeDocument,
    "\n  query Customer($id: ID!, $first: Int, $after: String) {\n    user(id: $id) {\n      id username email role status createdAt lastLoginAt\n      lastLocation { city country }\n      riskProfile { score level reasons { factor points detail } }\n      devices { id fingerprint status firstSeenAt lastSeenAt }\n      loginLogs(first: 20) { id success failureReason ipAddress userAgent createdAt location { city country } }\n      transactions(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { id amount currency merchantId occurredAt status detection { riskScore riskLevel decision } } }\n      }\n    }\n  }\n": types.CustomerDocument,
    "\n  mutation SetUserStatus($id: ID!, $status: UserStatus!, $reason: String) { updateUserStatus(id: $id, status: $status, reason: $reason) { id status } }\n": types.SetUserStatusDocument,
    "\n  mutation SetDeviceStatus($id: ID!, $status: DeviceStatus!, $reason: String) { setDeviceStatus(id: $id, status: $status, reason: $reason) { id status } }\n": types.SetDeviceStatusDocument,
    "\n  query Users($filter: UserFilter, $first: Int, $after: String) {\n    users(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id username email role status createdAt lastLoginAt } }\n    }\n  }\n": types.UsersDocument,
    "\n  query Dashboard($from: Time!, $to: Time!, $bucket: TrendBucket) {\n    riskEventStats(from: $from, to: $to) {\n      total open handled meanTimeToHandle\n      byLevel { key count } byStatus { key count } byType { key count }\n    }\n    riskTrend(from: $from, to: $to, bucket: $bucket) { bucketStart transactions low medium high events alerts reject review }\n    systemStatus {\n      version uptimeSeconds activeSubscriptions migrationVersion rulesLoaded transactionsLastMinute\n      database { reachable latencyMs openConnections inUse idle maxOpen waitCount }\n      scoringLatency { samples p50 p95 p99 }\n      engineLatency { samples p50 p95 p99 }\n    }\n  }\n": types.DashboardDocument,
    "\n  query Related($id: ID!, $depth: Int) {\n    user(id: $id) {\n      id username\n      relatedUsers(depth: $depth) {\n        depth\n        user { id username status }\n        evidence { kind value fromUser { id } toUser { id } }\n      }\n    }\n  }\n": types.RelatedDocument,
    "\n  query RuleDetail($id: ID!) {\n    rule(id: $id) {\n      id name description condition score priority type action enabled shadow version\n      versions { version name description condition expression score priority type action enabled shadow createdAt }\n    }\n  }\n": types.RuleDetailDocument,
    "\n  query LatestFeatures { transactions(first: 1) { edges { node { detection { features } } } } }\n": types.LatestFeaturesDocument,
    "\n  mutation UpsertRule($input: RuleInput!) { upsertRule(input: $input) { id name version enabled shadow expression } }\n": types.UpsertRuleDocument,
    "\n  query Backtest($input: BacktestInput!) {\n    backtestRule(input: $input) {\n      expression evaluated hits hitRate labelledFraud labelledLegitimate fraudCaught legitimateHit\n      precision recall addedFlagged addedFlaggedVolume truncated\n    }\n  }\n": types.BacktestDocument,
    "\n  query Rules { rules { id name description expression score priority type action enabled shadow version builtin hitCount lastHitAt } }\n": types.RulesDocument,
    "\n  mutation SetRuleEnabled($id: ID!, $enabled: Boolean!) { setRuleEnabled(id: $id, enabled: $enabled) { id enabled version } }\n": types.SetRuleEnabledDocument,
    "\n  fragment DetectionView on Detection {\n    riskScore riskLevel decision ruleScore mlScore modelVersion reason features latencyMicros\n    matchedRules { ruleId name version score type action reason }\n    shadowRules { ruleId name version score reason }\n    modelContributions { feature value contribution }\n  }\n": types.DetectionViewFragmentDoc,
    "\n  query Transaction($id: ID!) {\n    transaction(id: $id) {\n      id amount currency merchantId merchantCategory channel ipAddress status occurredAt createdAt deviceFingerprint\n      user { id username }\n      device { id fingerprint status }\n      location { latitude longitude city country }\n      detection { ...DetectionView }\n      riskEvent { id status title }\n    }\n  }\n": types.TransactionDocument,
    "\n  query Transactions($filter: TransactionFilter, $first: Int, $after: String) {\n    transactions(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node {\n        id amount currency merchantId channel status occurredAt userId\n        user { id username }\n        detection { riskScore riskLevel decision }\n      } }\n    }\n  }\n": types.TransactionsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) { accessToken refreshToken expiresAt user { id username role } }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) { accessToken refreshToken expiresAt user { id username role } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Refresh($token: String!) {\n    refreshToken(refreshToken: $token) { accessToken refreshToken expiresAt user { id username role } }\n  }\n"): (typeof documents)["\n  mutation Refresh($token: String!) {\n    refreshToken(refreshToken: $token) { accessToken refreshToken expiresAt user { id username role } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout($token: String) { logout(refreshToken: $token) }\n"): (typeof documents)["\n  mutation Logout($token: String) { logout(refreshToken: $token) }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      id username email role status createdAt lastLoginAt\n      lastLocation { city country }\n      devices { id fingerprint status firstSeenAt lastSeenAt }\n      loginLogs(first: 10) { id success failureReason ipAddress createdAt location { city country } }\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      id username email role status createdAt lastLoginAt\n      lastLocation { city country }\n      devices { id fingerprint status firstSeenAt lastSeenAt }\n      loginLogs(first: 10) { id success failureReason ipAddress createdAt location { city country } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminUsers($first: Int, $after: String) {\n    users(first: $first, after: $after) {\n      totalCount pageInfo { hasNextPage endCursor }\n      edges { node { id username email role status lastLoginAt } }\n    }\n  }\n"): (typeof documents)["\n  query AdminUsers($first: Int, $after: String) {\n    users(first: $first, after: $after) {\n      totalCount pageInfo { hasNextPage endCursor }\n      edges { node { id username email role status lastLoginAt } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id username role } }"): (typeof documents)["mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id username role } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation SetRole($id: ID!, $role: Role!) { updateUserRole(id: $id, role: $role) { id role } }"): (typeof documents)["mutation SetRole($id: ID!, $role: Role!) { updateUserRole(id: $id, role: $role) { id role } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Audit($filter: AuditLogFilter, $first: Int, $after: String) {\n    auditLogs(filter: $filter, first: $first, after: $after) {\n      totalCount pageInfo { hasNextPage endCursor }\n      edges { node { id action targetType targetId details ipAddress createdAt actor { username } } }\n    }\n  }\n"): (typeof documents)["\n  query Audit($filter: AuditLogFilter, $first: Int, $after: String) {\n    auditLogs(filter: $filter, first: $first, after: $after) {\n      totalCount pageInfo { hasNextPage endCursor }\n      edges { node { id action targetType targetId details ipAddress createdAt actor { username } } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Sources {\n    dataSources { id name kind description config status lastSeenAt }\n    dataQuality {\n      completeness { total missingDevice missingIp missingLocation missingMerchant score }\n      freshness { sourceName newestAt ageSeconds }\n      anomalies { day count mean zScore direction }\n    }\n  }\n"): (typeof documents)["\n  query Sources {\n    dataSources { id name kind description config status lastSeenAt }\n    dataQuality {\n      completeness { total missingDevice missingIp missingLocation missingMerchant score }\n      freshness { sourceName newestAt ageSeconds }\n      anomalies { day count mean zScore direction }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Models {\n    models(first: 20) { edges { node {\n      id version algorithm active activatedAt createdAt\n      metrics { heldOut { rows fraud legitimate } train { rows } precision recall auc threshold truePositives falsePositives trueNegatives falseNegatives }\n    } } }\n  }\n"): (typeof documents)["\n  query Models {\n    models(first: 20) { edges { node {\n      id version algorithm active activatedAt createdAt\n      metrics { heldOut { rows fraud legitimate } train { rows } precision recall auc threshold truePositives falsePositives trueNegatives falseNegatives }\n    } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation TrainModel { trainModel { id version } }"): (typeof documents)["mutation TrainModel { trainModel { id version } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ActivateModel($id: ID!) { activateModel(id: $id) { id active } }"): (typeof documents)["mutation ActivateModel($id: ID!) { activateModel(id: $id) { id active } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation DeactivateModel($id: ID!) { deactivateModel(id: $id) { id active } }"): (typeof documents)["mutation DeactivateModel($id: ID!) { deactivateModel(id: $id) { id active } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AlertRow on Alert {\n    id level status title message createdAt\n    event { id status }\n    user { id username }\n    transaction { id amount currency }\n  }\n"): (typeof documents)["\n  fragment AlertRow on Alert {\n    id level status title message createdAt\n    event { id status }\n    user { id username }\n    transaction { id amount currency }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AlertsSince($filter: AlertFilter, $first: Int, $after: String) {\n    alerts(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...AlertRow } }\n    }\n  }\n"): (typeof documents)["\n  query AlertsSince($filter: AlertFilter, $first: Int, $after: String) {\n    alerts(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...AlertRow } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AlertRaised($minLevel: RiskLevel) { alertRaised(minLevel: $minLevel) { ...AlertRow } }\n"): (typeof documents)["\n  subscription AlertRaised($minLevel: RiskLevel) { alertRaised(minLevel: $minLevel) { ...AlertRow } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation HandleAlert($id: ID!, $input: HandleAlertInput!) { handleAlert(id: $id, input: $input) { ...AlertRow } }\n"): (typeof documents)["\n  mutation HandleAlert($id: ID!, $input: HandleAlertInput!) { handleAlert(id: $id, input: $input) { ...AlertRow } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Case($id: ID!) {\n    riskEvent(id: $id) {\n      id title description type level status riskScore version createdAt updatedAt\n      assignee { id username }\n      user {\n        id username status role\n        riskProfile { score level reasons { factor points detail } }\n      }\n      transaction {\n        id amount currency merchantId channel ipAddress occurredAt status deviceFingerprint\n        device { id fingerprint status }\n        location { city country }\n        detection { ...DetectionView }\n      }\n      alerts { id level status title createdAt }\n      timeline { id kind action note fromStatus toStatus createdAt actor { username } }\n      suggestions { action reason priority }\n    }\n  }\n"): (typeof documents)["\n  query Case($id: ID!) {\n    riskEvent(id: $id) {\n      id title description type level status riskScore version createdAt updatedAt\n      assignee { id username }\n      user {\n        id username status role\n        riskProfile { score level reasons { factor points detail } }\n      }\n      transaction {\n        id amount currency merchantId channel ipAddress occurredAt status deviceFingerprint\n        device { id fingerprint status }\n        location { city country }\n        detection { ...DetectionView }\n      }\n      alerts { id level status title createdAt }\n      timeline { id kind action note fromStatus toStatus createdAt actor { username } }\n      suggestions { action reason priority }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation HandleEvent($id: ID!, $input: HandleRiskEventInput!) {\n    handleRiskEvent(id: $id, input: $input) { id status version assignee { id username } }\n  }\n"): (typeof documents)["\n  mutation HandleEvent($id: ID!, $input: HandleRiskEventInput!) {\n    handleRiskEvent(id: $id, input: $input) { id status version assignee { id username } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Cases($filter: RiskEventFilter, $first: Int, $after: String, $from: Time!, $to: Time!) {\n    riskEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id title type level status riskScore createdAt version user { id username } assignee { id username } } }\n    }\n    riskEventStats(from: $from, to: $to) { total byStatus { key count } }\n  }\n"): (typeof documents)["\n  query Cases($filter: RiskEventFilter, $first: Int, $after: String, $from: Time!, $to: Time!) {\n    riskEvents(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id title type level status riskScore createdAt version user { id username } assignee { id username } } }\n    }\n    riskEventStats(from: $from, to: $to) { total byStatus { key count } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AssignToMe($id: ID!, $input: HandleRiskEventInput!) { handleRiskEvent(id: $id, input: $input) { id version assignee { id username } } }\n"): (typeof documents)["\n  mutation AssignToMe($id: ID!, $input: HandleRiskEventInput!) { handleRiskEvent(id: $id, input: $input) { id version assignee { id username } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Customer($id: ID!, $first: Int, $after: String) {\n    user(id: $id) {\n      id username email role status createdAt lastLoginAt\n      lastLocation { city country }\n      riskProfile { score level reasons { factor points detail } }\n      devices { id fingerprint status firstSeenAt lastSeenAt }\n      loginLogs(first: 20) { id success failureReason ipAddress userAgent createdAt location { city country } }\n      transactions(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { id amount currency merchantId occurredAt status detection { riskScore riskLevel decision } } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Customer($id: ID!, $first: Int, $after: String) {\n    user(id: $id) {\n      id username email role status createdAt lastLoginAt\n      lastLocation { city country }\n      riskProfile { score level reasons { factor points detail } }\n      devices { id fingerprint status firstSeenAt lastSeenAt }\n      loginLogs(first: 20) { id success failureReason ipAddress userAgent createdAt location { city country } }\n      transactions(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { id amount currency merchantId occurredAt status detection { riskScore riskLevel decision } } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetUserStatus($id: ID!, $status: UserStatus!, $reason: String) { updateUserStatus(id: $id, status: $status, reason: $reason) { id status } }\n"): (typeof documents)["\n  mutation SetUserStatus($id: ID!, $status: UserStatus!, $reason: String) { updateUserStatus(id: $id, status: $status, reason: $reason) { id status } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetDeviceStatus($id: ID!, $status: DeviceStatus!, $reason: String) { setDeviceStatus(id: $id, status: $status, reason: $reason) { id status } }\n"): (typeof documents)["\n  mutation SetDeviceStatus($id: ID!, $status: DeviceStatus!, $reason: String) { setDeviceStatus(id: $id, status: $status, reason: $reason) { id status } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Users($filter: UserFilter, $first: Int, $after: String) {\n    users(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id username email role status createdAt lastLoginAt } }\n    }\n  }\n"): (typeof documents)["\n  query Users($filter: UserFilter, $first: Int, $after: String) {\n    users(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id username email role status createdAt lastLoginAt } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Dashboard($from: Time!, $to: Time!, $bucket: TrendBucket) {\n    riskEventStats(from: $from, to: $to) {\n      total open handled meanTimeToHandle\n      byLevel { key count } byStatus { key count } byType { key count }\n    }\n    riskTrend(from: $from, to: $to, bucket: $bucket) { bucketStart transactions low medium high events alerts reject review }\n    systemStatus {\n      version uptimeSeconds activeSubscriptions migrationVersion rulesLoaded transactionsLastMinute\n      database { reachable latencyMs openConnections inUse idle maxOpen waitCount }\n      scoringLatency { samples p50 p95 p99 }\n      engineLatency { samples p50 p95 p99 }\n    }\n  }\n"): (typeof documents)["\n  query Dashboard($from: Time!, $to: Time!, $bucket: TrendBucket) {\n    riskEventStats(from: $from, to: $to) {\n      total open handled meanTimeToHandle\n      byLevel { key count } byStatus { key count } byType { key count }\n    }\n    riskTrend(from: $from, to: $to, bucket: $bucket) { bucketStart transactions low medium high events alerts reject review }\n    systemStatus {\n      version uptimeSeconds activeSubscriptions migrationVersion rulesLoaded transactionsLastMinute\n      database { reachable latencyMs openConnections inUse idle maxOpen waitCount }\n      scoringLatency { samples p50 p95 p99 }\n      engineLatency { samples p50 p95 p99 }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Related($id: ID!, $depth: Int) {\n    user(id: $id) {\n      id username\n      relatedUsers(depth: $depth) {\n        depth\n        user { id username status }\n        evidence { kind value fromUser { id } toUser { id } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Related($id: ID!, $depth: Int) {\n    user(id: $id) {\n      id username\n      relatedUsers(depth: $depth) {\n        depth\n        user { id username status }\n        evidence { kind value fromUser { id } toUser { id } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RuleDetail($id: ID!) {\n    rule(id: $id) {\n      id name description condition score priority type action enabled shadow version\n      versions { version name description condition expression score priority type action enabled shadow createdAt }\n    }\n  }\n"): (typeof documents)["\n  query RuleDetail($id: ID!) {\n    rule(id: $id) {\n      id name description condition score priority type action enabled shadow version\n      versions { version name description condition expression score priority type action enabled shadow createdAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LatestFeatures { transactions(first: 1) { edges { node { detection { features } } } } }\n"): (typeof documents)["\n  query LatestFeatures { transactions(first: 1) { edges { node { detection { features } } } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpsertRule($input: RuleInput!) { upsertRule(input: $input) { id name version enabled shadow expression } }\n"): (typeof documents)["\n  mutation UpsertRule($input: RuleInput!) { upsertRule(input: $input) { id name version enabled shadow expression } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Backtest($input: BacktestInput!) {\n    backtestRule(input: $input) {\n      expression evaluated hits hitRate labelledFraud labelledLegitimate fraudCaught legitimateHit\n      precision recall addedFlagged addedFlaggedVolume truncated\n    }\n  }\n"): (typeof documents)["\n  query Backtest($input: BacktestInput!) {\n    backtestRule(input: $input) {\n      expression evaluated hits hitRate labelledFraud labelledLegitimate fraudCaught legitimateHit\n      precision recall addedFlagged addedFlaggedVolume truncated\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Rules { rules { id name description expression score priority type action enabled shadow version builtin hitCount lastHitAt } }\n"): (typeof documents)["\n  query Rules { rules { id name description expression score priority type action enabled shadow version builtin hitCount lastHitAt } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetRuleEnabled($id: ID!, $enabled: Boolean!) { setRuleEnabled(id: $id, enabled: $enabled) { id enabled version } }\n"): (typeof documents)["\n  mutation SetRuleEnabled($id: ID!, $enabled: Boolean!) { setRuleEnabled(id: $id, enabled: $enabled) { id enabled version } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DetectionView on Detection {\n    riskScore riskLevel decision ruleScore mlScore modelVersion reason features latencyMicros\n    matchedRules { ruleId name version score type action reason }\n    shadowRules { ruleId name version score reason }\n    modelContributions { feature value contribution }\n  }\n"): (typeof documents)["\n  fragment DetectionView on Detection {\n    riskScore riskLevel decision ruleScore mlScore modelVersion reason features latencyMicros\n    matchedRules { ruleId name version score type action reason }\n    shadowRules { ruleId name version score reason }\n    modelContributions { feature value contribution }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Transaction($id: ID!) {\n    transaction(id: $id) {\n      id amount currency merchantId merchantCategory channel ipAddress status occurredAt createdAt deviceFingerprint\n      user { id username }\n      device { id fingerprint status }\n      location { latitude longitude city country }\n      detection { ...DetectionView }\n      riskEvent { id status title }\n    }\n  }\n"): (typeof documents)["\n  query Transaction($id: ID!) {\n    transaction(id: $id) {\n      id amount currency merchantId merchantCategory channel ipAddress status occurredAt createdAt deviceFingerprint\n      user { id username }\n      device { id fingerprint status }\n      location { latitude longitude city country }\n      detection { ...DetectionView }\n      riskEvent { id status title }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Transactions($filter: TransactionFilter, $first: Int, $after: String) {\n    transactions(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node {\n        id amount currency merchantId channel status occurredAt userId\n        user { id username }\n        detection { riskScore riskLevel decision }\n      } }\n    }\n  }\n"): (typeof documents)["\n  query Transactions($filter: TransactionFilter, $first: Int, $after: String) {\n    transactions(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node {\n        id amount currency merchantId channel status occurredAt userId\n        user { id username }\n        detection { riskScore riskLevel decision }\n      } }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;