import { trackingBaseUrl } from '../../src/azure/mlflow';

const WS = 'subscriptions/0000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';

describe('trackingBaseUrl', () => {
  test('turns the workspace azureml:// tracking URI into https', () => {
    expect(trackingBaseUrl(`azureml://eastus.api.azureml.ms/mlflow/v1.0/${WS}`)).toBe(
      `https://eastus.api.azureml.ms/mlflow/v1.0/${WS}`,
    );
  });

  test('drops the query string and trailing slashes', () => {
    expect(trackingBaseUrl(`azureml://eastus.api.azureml.ms/mlflow/v1.0/${WS}?api-version=2023-10-01`)).toBe(
      `https://eastus.api.azureml.ms/mlflow/v1.0/${WS}`,
    );
    expect(trackingBaseUrl(`azureml://eastus.api.azureml.ms/mlflow/v1.0/${WS}//`)).toBe(
      `https://eastus.api.azureml.ms/mlflow/v1.0/${WS}`,
    );
  });

  test('leaves an https URI (e.g. a local emulator) as it is', () => {
    expect(trackingBaseUrl('https://127.0.0.1:8443/mlflow/v1.0/ws')).toBe('https://127.0.0.1:8443/mlflow/v1.0/ws');
  });
});
