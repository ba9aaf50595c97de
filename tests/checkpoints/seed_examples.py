"""The Python examples of seed 000, as the seed gives them (indentation restored).

Tests run them with only the host and the key replaced (:func:`adapted`): the code itself,
its polling and its thread pool are the seed's.
"""

from __future__ import annotations

SEED_HOST = "https://app.mixus.ai"
SEED_KEY = "mxs_eval_YOUR_KEY"

BENCHMARK_SUITE = """
import requests
import time
API_KEY = "mxs_eval_YOUR_KEY"
HEADERS = {
    "Authorization": f"Bearer {API_KEY}",
    "Content-Type": "application/json"
}
# Create multiple eval tasks
tasks = [
    "Calculate 15% of $50,000",
    "Research top 3 AI companies and summarize",
    "Draft email to team about Q4 goals"
]
executions = []
for task in tasks:
    response = requests.post(
        "https://app.mixus.ai/api/eval/create-task-agent",
        headers=HEADERS,
        json={
            "taskName": f"Benchmark: {task[:30]}",
            "taskDescription": task,
            "autoDetectCheckpoints": True,
            "testMode": "with-verification",
            "assignedReviewer": "you@example.com"
        }
    )
    executions.append(response.json())
# Track progress
for exec in executions:
    exec_id = exec['executionId']
    while True:
        status = requests.get(
            f"https://app.mixus.ai/api/eval/status/{exec_id}",
            headers=HEADERS
        ).json()
        if status['execution']['isComplete']:
            print(f"✅ {exec['taskName']}: Done!")
            break
        elif status['execution']['isFailed']:
            print(f"❌ {exec['taskName']}: Failed")
            break
        time.sleep(10)  # Poll every 10 seconds
"""

WAIT_FOR_COMPLETION = '''
import requests
import time
def wait_for_completion(execution_id, api_key, timeout=3600):
    """
    Poll execution status until completion or timeout.
    Args:
        execution_id: Execution ID from create response
        api_key: Your mixus API key
        timeout: Max wait time in seconds (default: 1 hour)
    Returns:
        Final execution status
    """
    start_time = time.time()
    poll_interval = 10  # Start with 10 seconds
    while True:
        # Check timeout
        if time.time() - start_time > timeout:
            raise TimeoutError("Execution did not complete in time")
        # Get status
        response = requests.get(
            f"https://app.mixus.ai/api/eval/status/{execution_id}",
            headers={"Authorization": f"Bearer {api_key}"}
        )
        execution = response.json()['execution']
        # Check if done
        if execution['isComplete'] or execution['isFailed']:
            return execution
        # Adaptive polling (slow down over time)
        if time.time() - start_time > 300:  # After 5 minutes
            poll_interval = 30  # Poll every 30 seconds
        time.sleep(poll_interval)
'''

BATCH_CREATE = '''
from concurrent.futures import ThreadPoolExecutor
import requests
def create_eval_batch(tasks, api_key, max_concurrent=5):
    """
    Create multiple eval tasks concurrently.
    """
    def create_single(task):
        response = requests.post(
            "https://app.mixus.ai/api/eval/create-task-agent",
            headers={
                "Authorization": f"Bearer {api_key}",
                "Content-Type": "application/json"
            },
            json=task
        )
        return response.json()
    with ThreadPoolExecutor(max_workers=max_concurrent) as executor:
        results = list(executor.map(create_single, tasks))
    return results
'''

SUCCESS_RATE = '''
import requests
def calculate_eval_success_rate(execution_ids, api_key):
    """
    Calculate success rate across multiple evals.
    """
    successful = 0
    failed = 0
    for exec_id in execution_ids:
        response = requests.get(
            f"https://app.mixus.ai/api/eval/status/{exec_id}",
            headers={"Authorization": f"Bearer {api_key}"}
        )
        exec_data = response.json()['execution']
        if exec_data['isComplete'] and not exec_data['error']:
            successful += 1
        elif exec_data['isFailed']:
            failed += 1
    total = successful + failed
    success_rate = (successful / total * 100) if total > 0 else 0
    return {
        'success_rate': success_rate,
        'successful': successful,
        'failed': failed,
        'total': total
    }
'''


def adapted(code: str, host: str, key: str) -> str:
    """The seed's code pointed at ``host`` with ``key``: nothing else changes."""
    return code.replace(SEED_HOST, host).replace(SEED_KEY, key)
