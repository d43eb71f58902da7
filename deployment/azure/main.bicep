// Forumbot in Azure: two replicas of the container in Azure Container Apps on one Azure Database for
// PostgreSQL flexible server, an Azure Bot with the Teams channel, and the bot's identity as a
// user-assigned managed identity (no app password exists). The database is reachable only inside
// the virtual network; the app's two secrets are Key Vault references, which only the bot's identity
// may read. deployment/README.md walks through it:
//
//   az deployment group create -g RESOURCE_GROUP -f deployment/azure/main.bicep \
//     -p @deployment/azure/main.parameters.json -p registryName=... containerImage=... \
//        postgresAdminPassword=... fileLinkSecret=...

targetScope = 'resourceGroup'

@description('Azure region of everything but the bot registration (which is global).')
param location string = resourceGroup().location

@description('Short prefix of every resource name.')
@minLength(3)
@maxLength(12)
param namePrefix string = 'forumbot'

@description('An existing Azure Container Registry in this resource group that holds the image.')
param registryName string

@description('The image to run, e.g. myregistry.azurecr.io/forumbot:1.0.0 (built with az acr build).')
param containerImage string

@description('How many replicas serve the bot; each sends at most 48 / replicas proactive messages a second.')
@minValue(1)
@maxValue(10)
param replicas int = 2

@description('The bot\'s name in Teams and the Azure portal.')
param botDisplayName string = 'Forumbot'

@description('Azure Bot pricing tier; the Teams channel is free on both.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

@description('Comma-separated Entra object ids of the forum\'s administrators (FORUMBOT_ADMIN_IDS).')
param adminIds string = ''

@description('Comma-separated tenant ids the bot serves (FORUMBOT_ALLOWED_TENANTS); by default this subscription\'s tenant only.')
param allowedTenants string = tenant().tenantId

@description('A host name of your own for the bot (e.g. forumbot.vasteras.se), bound to the app afterwards; empty: the app\'s azurecontainerapps.io name.')
param customDomain string = ''

@description('The PostgreSQL administrator, which the bot connects as.')
param postgresAdminLogin string = 'forumbot'

@description('The PostgreSQL administrator\'s password: only stored in Key Vault, inside DATABASE_URL.')
@secure()
@minLength(16)
param postgresAdminPassword string

@description('FORUMBOT_FILE_LINK_SECRET: at least 32 random bytes (openssl rand -base64 48).')
@secure()
@minLength(32)
param fileLinkSecret string

@description('PostgreSQL compute size; Standard_B1ms (burstable) is plenty for one forum.')
param postgresSkuName string = 'Standard_B1ms'

@description('The PostgreSQL server\'s name; empty: generated. After a point-in-time restore, the restored server\'s name, so that DATABASE_URL follows it.')
param postgresServerName string = ''

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresTier string = 'Burstable'

param postgresVersion string = '16'

@minValue(32)
param postgresStorageGB int = 32

@description('Days of point-in-time restore the server keeps (7 to 35).')
@minValue(7)
@maxValue(35)
param postgresBackupRetentionDays int = 35

@description('Keep the backups in the paired region too (needs a region with a pair, such as swedencentral).')
@allowed([
  'Enabled'
  'Disabled'
])
param postgresGeoRedundantBackup string = 'Enabled'

@description('Days the logs stay in Log Analytics.')
@minValue(30)
param logRetentionDays int = 90

var suffix = uniqueString(resourceGroup().id)
var appName = '${namePrefix}-app'
var publicHost = empty(customDomain) ? '${appName}.${environment.properties.defaultDomain}' : customDomain
var publicUrl = 'https://${publicHost}'
var databaseName = 'forumbot'
var containerPort = 8000
// Teams allows 50 proactive messages a second per app and tenant; 48 split among the replicas.
var outboxRatePerReplica = 48 / replicas
var roles = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

// ---------------------------------------------------------------------------------------------
// The bot's identity: Bot Framework tokens (MicrosoftAppType=UserAssignedMSI), image pulls, secrets.

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${namePrefix}-id'
  location: location
}

// ---------------------------------------------------------------------------------------------
// Logs and Application Insights.

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: '${namePrefix}-logs'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-insights'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    RetentionInDays: logRetentionDays
  }
}

// ---------------------------------------------------------------------------------------------
// The network: the apps' subnet and the database's.

resource network 'Microsoft.Network/virtualNetworks@2023-11-01' = {
  name: '${namePrefix}-vnet'
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.40.0.0/16'
      ]
    }
    subnets: [
      {
        name: 'apps'
        properties: {
          addressPrefix: '10.40.0.0/23'
          delegations: [
            {
              name: 'containerApps'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'database'
        properties: {
          addressPrefix: '10.40.2.0/24'
          delegations: [
            {
              name: 'postgres'
              properties: {
                serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers'
              }
            }
          ]
        }
      }
    ]
  }
}

resource appsSubnet 'Microsoft.Network/virtualNetworks/subnets@2023-11-01' existing = {
  parent: network
  name: 'apps'
}

resource databaseSubnet 'Microsoft.Network/virtualNetworks/subnets@2023-11-01' existing = {
  parent: network
  name: 'database'
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: private access only (its name resolves in the virtual network alone).

resource postgresZone 'Microsoft.Network/privateDnsZones@2020-06-01' = {
  name: '${namePrefix}.private.postgres.database.azure.com'
  location: 'global'
}

resource postgresZoneLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = {
  parent: postgresZone
  name: '${namePrefix}-vnet'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: network.id
    }
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: empty(postgresServerName) ? '${namePrefix}-pg-${suffix}' : postgresServerName
  location: location
  sku: {
    name: postgresSkuName
    tier: postgresTier
  }
  properties: {
    version: postgresVersion
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    authConfig: {
      activeDirectoryAuth: 'Disabled'
      passwordAuth: 'Enabled'
    }
    storage: {
      storageSizeGB: postgresStorageGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: postgresBackupRetentionDays
      geoRedundantBackup: postgresGeoRedundantBackup
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      delegatedSubnetResourceId: databaseSubnet.id
      privateDnsZoneArmResourceId: postgresZone.id
      publicNetworkAccess: 'Disabled'
    }
  }
  dependsOn: [
    postgresZoneLink
  ]
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

// ---------------------------------------------------------------------------------------------
// Key Vault: the app's two secrets. Azure RBAC only: the bot's identity may read them, nobody is
// given more here (an operator who must read or change one gives themselves Key Vault Secrets Officer).

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_189: Container Apps resolves Key Vault references from its own platform, reported to fail against a vault behind a private endpoint or firewall; access is by Azure RBAC alone, only the bot's identity reads
  // checkov:skip=CKV_AZURE_109: no firewall for the same reason (Container Apps is not among the trusted services a vault firewall lets through); access is by Azure RBAC alone
  name: take('${namePrefix}-kv-${suffix}', 24)
  location: location
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource databaseUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  // checkov:skip=CKV_AZURE_41: no expiry: the app reads it at every start, and an expired secret would stop the bot; the password is rotated by redeploying with a new postgresAdminPassword
  parent: vault
  name: 'database-url'
  properties: {
    contentType: 'DATABASE_URL'
    value: 'postgresql://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?ssl=require'
  }
  dependsOn: [
    database
  ]
}

resource fileLinkSecretSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  // checkov:skip=CKV_AZURE_41: no expiry: an expired key would stop the bot; rotate it by redeploying with a new fileLinkSecret (links already handed out then stop working, as they would within minutes anyway)
  parent: vault
  name: 'file-link-secret'
  properties: {
    contentType: 'FORUMBOT_FILE_LINK_SECRET'
    value: fileLinkSecret
  }
}

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// The image registry (created beforehand, see deployment/README.md): the identity pulls from it.

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource registryPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identity.id, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// Container Apps: the environment, the bot (always `replicas` running: no scale to zero, so the
// schedule's reminders and the outbox keep going) and the one-shot migration job.

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${namePrefix}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
    vnetConfiguration: {
      infrastructureSubnetId: appsSubnet.id
      internal: false
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

var keyVaultSecrets = [
  {
    name: 'database-url'
    keyVaultUrl: databaseUrlSecret.properties.secretUri
    identity: identity.id
  }
  {
    name: 'file-link-secret'
    keyVaultUrl: fileLinkSecretSecret.properties.secretUri
    identity: identity.id
  }
]

var settings = [
  {
    name: 'FORUMBOT_ENV'
    value: 'production'
  }
  {
    name: 'MicrosoftAppType'
    value: 'UserAssignedMSI'
  }
  {
    name: 'MicrosoftAppId'
    value: identity.properties.clientId
  }
  {
    name: 'MicrosoftAppTenantId'
    value: tenant().tenantId
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identity.properties.clientId
  }
  {
    name: 'DATABASE_URL'
    // checkov:skip=CKV_SECRET_6: the name of the Container Apps secret (a Key Vault reference), not a value
    secretRef: 'database-url'
  }
  {
    name: 'FORUMBOT_FILE_LINK_SECRET'
    // checkov:skip=CKV_SECRET_6: the name of the Container Apps secret (a Key Vault reference), not a value
    secretRef: 'file-link-secret'
  }
  {
    name: 'FORUMBOT_PUBLIC_URL'
    value: publicUrl
  }
  {
    name: 'FORUMBOT_ALLOWED_TENANTS'
    value: allowedTenants
  }
  {
    name: 'FORUMBOT_ADMIN_IDS'
    value: adminIds
  }
  {
    name: 'FORUMBOT_OUTBOX_GLOBAL_RATE'
    value: string(outboxRatePerReplica)
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: insights.properties.ConnectionString
  }
  {
    name: 'PORT'
    value: string(containerPort)
  }
]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: appName
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: containerPort
        transport: 'http'
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: [
        {
          server: registry.properties.loginServer
          identity: identity.id
        }
      ]
      secrets: keyVaultSecrets
    }
    template: {
      containers: [
        {
          name: 'forumbot'
          image: containerImage
          env: settings
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: '/healthz'
                port: containerPort
              }
              initialDelaySeconds: 3
              periodSeconds: 5
              failureThreshold: 10
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: containerPort
              }
              periodSeconds: 30
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: containerPort
              }
              timeoutSeconds: 5
              periodSeconds: 10
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        minReplicas: replicas
        maxReplicas: replicas
      }
    }
  }
  dependsOn: [
    registryPull
    vaultSecretsUser
  ]
}

// `forumbot db upgrade`, started by hand (az containerapp job start) before each new version.
resource migrate 'Microsoft.App/jobs@2024-03-01' = {
  name: '${namePrefix}-migrate'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: 900
      replicaRetryLimit: 0
      manualTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
      }
      registries: [
        {
          server: registry.properties.loginServer
          identity: identity.id
        }
      ]
      secrets: keyVaultSecrets
    }
    template: {
      containers: [
        {
          name: 'migrate'
          image: containerImage
          command: [
            'forumbot'
            'db'
            'upgrade'
          ]
          env: settings
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
        }
      ]
    }
  }
  dependsOn: [
    registryPull
    vaultSecretsUser
  ]
}

// ---------------------------------------------------------------------------------------------
// The Azure Bot: its messaging endpoint is the app, its identity the managed identity.

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: '${namePrefix}-bot-${suffix}'
  location: 'global'
  kind: 'azurebot'
  sku: {
    name: botSku
  }
  properties: {
    displayName: botDisplayName
    endpoint: '${publicUrl}/api/messages'
    msaAppId: identity.properties.clientId
    msaAppType: 'UserAssignedMSI'
    msaAppTenantId: tenant().tenantId
    msaAppMSIResourceId: identity.id
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
      enableCalling: false
      acceptedTerms: true
    }
  }
}

// For the next steps (deployment/README.md) and the Microsoft 365 Agents Toolkit's env file.
output APP_ID string = identity.properties.clientId
output DOMAIN string = publicHost
output PUBLIC_URL string = publicUrl
output CONTAINER_APP_NAME string = app.name
output MIGRATION_JOB_NAME string = migrate.name
output BOT_NAME string = bot.name
output KEY_VAULT_NAME string = vault.name
output POSTGRES_SERVER_NAME string = postgres.name
output ENVIRONMENT_STATIC_IP string = environment.properties.staticIp
