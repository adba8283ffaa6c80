"""ComfyUI in the loop (issue 11): watch the output folder and file new results to their shots
(watcher, matcher, inbox), and queue shots to a ComfyUI server and bring the results back
(template, client, jobs). Sits beside ops/: it uses store/, media/ and ops/, never ui/.
"""
