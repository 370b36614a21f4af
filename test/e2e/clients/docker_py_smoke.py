"""docker-py against berthd: the calls docker-py users make most. Prints one line per check."""
import sys
import docker

c = docker.DockerClient(base_url=sys.argv[1])
print('api', c.version()['ApiVersion'])
print('run', c.containers.run('busybox', ['echo', 'hello from docker-py'], remove=True).decode().strip())
ct = c.containers.run('busybox', ['sh', '-c', 'echo out; sleep 30'], detach=True, name='pyc', labels={'via': 'docker-py'})
print('list', [x.name for x in c.containers.list(filters={'label': 'via=docker-py'})])
r = ct.exec_run(['sh', '-c', 'echo exec; exit 3'])
print('exec', r.exit_code, r.output.decode().strip())
ct.stop(timeout=1)
print('wait', ct.wait()['StatusCode'])
print('logs', ct.logs().decode().strip())
ct.remove()
print('images', sorted(t for i in c.images.list() for t in i.tags))
try:
    c.containers.run('busybox', ['sh', '-c', 'exit 4'], remove=True)
except docker.errors.ContainerError as e:
    print('error', e.exit_status)
try:
    c.containers.get('nope')
except docker.errors.NotFound as e:
    print('notfound', e.explanation)
