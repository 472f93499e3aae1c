// Post, and read the home timeline with endless scroll. Each item says whether fan-out pushed
// it into your timeline when it was posted, or it was pulled when you read (a celebrity's post,
// one fan-out has not reached yet, or your own).
import { useEffect, useRef, useState } from 'preact/hooks'
import { call, type Page, type Post } from '../api.ts'
import { ErrorMessage } from '../components/error-message.tsx'

const MAX_POST = 280
const SOURCE_LABEL = { push: 'pushed at write time', pull: 'pulled at read time' } as const

export function TimelineView () {
  const [items, setItems] = useState<Post[]>([])
  const [cursor, setCursor] = useState<string | null | undefined>(undefined)
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [postError, setPostError] = useState<unknown>(null)
  const [text, setText] = useState('')
  const sentinel = useRef<HTMLDivElement>(null)

  async function load (from: string | null | undefined, action: string) {
    setLoading(true)
    try {
      const query = from ? `&cursor=${encodeURIComponent(from)}` : ''
      const page = await call<Page<Post>>('GET', `/api/v1/timeline?limit=20${query}`, { action })
      setItems((previous) => from ? [...previous, ...page.items.filter((p) => !previous.some((q) => q.id === p.id))] : page.items)
      setCursor(page.nextCursor)
      setError(null)
    } catch (err) {
      setError(err)
    } finally {
      setLoading(false)
    }
  }

  useEffect(() => { void load(undefined, 'Load my timeline') }, [])

  // Endless scroll: the next page loads when the end of the list comes into view.
  useEffect(() => {
    const target = sentinel.current
    if (!target || !cursor) return
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading) void load(cursor, 'Load older posts')
    })
    observer.observe(target)
    return () => { observer.disconnect() }
  }, [cursor, loading])

  async function publish (event: Event) {
    event.preventDefault()
    setPostError(null)
    try {
      await call('POST', '/api/v1/posts', { action: 'Post', body: { text }, headers: { 'idempotency-key': crypto.randomUUID() } })
      setText('')
      await load(undefined, 'Reload my timeline')
    } catch (err) {
      setPostError(err)
    }
  }

  const left = MAX_POST - text.trim().length
  return (
    <>
      <section class='card' aria-labelledby='compose-title'>
        <h1 id='compose-title'>Post</h1>
        <form onSubmit={publish}>
          <label for='post-text'>What is happening? Mention people with @handle.</label>
          <textarea
            id='post-text'
            rows={3}
            value={text}
            onInput={(e) => { setText((e.currentTarget as HTMLTextAreaElement).value) }}
            aria-describedby='post-left'
          />
          <p id='post-left' class={left < 0 ? 'hint over' : 'hint'}>{left} characters left</p>
          <button type='submit' disabled={text.trim().length === 0 || left < 0}>Post</button>
          <ErrorMessage error={postError} />
        </form>
      </section>
      <section class='card' aria-labelledby='timeline-title'>
        <h2 id='timeline-title'>Home timeline</h2>
        <button type='button' class='secondary' onClick={() => { void load(undefined, 'Refresh my timeline') }}>Refresh</button>
        <ErrorMessage error={error} />
        {items.length === 0 && !loading && !error && <p>Nothing yet: follow someone on the People page, or post.</p>}
        <ol class='feed' aria-busy={loading}>
          {items.map((post) => (
            <li key={post.id} class='post'>
              <p class='meta'>
                <strong>@{post.authorHandle}</strong> · <time dateTime={post.createdAt}>{new Date(post.createdAt).toLocaleString()}</time>
                {post.source && <span class={`badge ${post.source}`} title={SOURCE_LABEL[post.source]}>{SOURCE_LABEL[post.source]}</span>}
              </p>
              <p class='text'>{post.text}</p>
            </li>
          ))}
        </ol>
        <div ref={sentinel} aria-hidden='true' />
        {loading && <p aria-live='polite'>Loading…</p>}
        {cursor === null && items.length > 0 && <p class='hint'>You have reached the end.</p>}
      </section>
    </>
  )
}
