import { useState } from 'react';
import { api } from '../api/api';
import { AsyncView, Empty, Field, Table, useAsync, usePager } from '../components';
import { num } from '../format';
import { Link, navigate, seg, useLocation } from '../router';

/** Customer search (by id prefix), for operators and auditors. */
export function CustomersPage() {
  const { query } = useLocation();
  const [text, setText] = useState(query.get('search') ?? '');
  const search = query.get('search') ?? '';
  const pager = usePager<string>([search]);
  const list = useAsync(() => api.customers(search, pager.cursor), [search, pager.cursor]);
  return (
    <section>
      <h1>Customers</h1>
      <form
        role="search"
        className="action"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(`/customers${text.trim() ? `?search=${encodeURIComponent(text.trim())}` : ''}`);
        }}
      >
        <Field label="Customer id starts with">{(id) => <input id={id} type="search" value={text} maxLength={128} onChange={(e) => setText(e.target.value)} />}</Field>
        <button type="submit">Search</button>
      </form>
      <AsyncView state={list} what="customers">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>{search ? `No customer id starts with “${search}”.` : 'No customer holds an entitlement yet.'}</Empty>
          ) : (
            <>
              <Table label="Customers" columns={['Customer', 'Entitlements', 'Active', 'Suspended']}>
                {page.items.map((c) => (
                  <tr key={c.customerId}>
                    <td>
                      <Link to={`/customers/${seg(c.customerId)}`}>{c.customerId}</Link>
                    </td>
                    <td>{num(c.entitlements)}</td>
                    <td>{num(c.active)}</td>
                    <td>{num(c.suspended)}</td>
                  </tr>
                ))}
              </Table>
              {pager.controls(page.nextCursor, 'Customer')}
            </>
          )
        }
      </AsyncView>
    </section>
  );
}
