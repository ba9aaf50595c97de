python3 - <<'EOF'
import random
rng = random.Random(7)
users = ['u%03d' % i for i in range(40)]
out = []
t = 0
for u in users:
    t += rng.randrange(1, 50)
    out.append(f'{t:06d} useradd {u}')
t += 3
out.append(f'{t:06d} useradd svc-backup')
for i in range(80):
    t += rng.randrange(1, 20)
    out.append(f'{t:06d} login {rng.choice(users)}')
out.append(f'{t+1:06d} login svc-backup')
out.append(f'{t+2:06d} sudo svc-backup /bin/tar czf /tmp/x.tgz /etc/shadow')
out.append(f'{t+9:06d} userdel svc-backup')
for i in range(30):
    t += rng.randrange(20, 40)
    out.append(f'{t:06d} login {rng.choice(users)}')
open('audit.log', 'w').write('\n'.join(out) + '\n')
EOF
